import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of an EC2 Query API endpoint (moto_server)
 * that injects the faults real AWS produces: throttling (`RequestLimitExceeded`,
 * HTTP 503), permission errors, a failure of one action in one region, and
 * rewritten responses (an image that stays `pending`). It counts what it did
 * so tests can assert on it.
 *
 * The action is read from the form body (`Action=CopyImage`), or for JSON
 * protocol services such as SSM from the X-Amz-Target header
 * (`AmazonSSM.PutParameter`), whose errors are then answered in JSON as those
 * services answer them; the region from the SigV4 credential scope in the
 * Authorization header (`Credential=AKID/20240101/eu-west-1/ec2/aws4_request`),
 * since one moto endpoint serves every region.
 *
 * It also answers the EC2 actions moto 5.2 lacks, as EC2 does, and records
 * them: EnableImageDeprecation / DisableImageDeprecation (the image must
 * exist upstream; the time must be ahead and at most 10 years away; later
 * DescribeImages answers show the DeprecationTime) and
 * DeleteLaunchTemplateVersions (the template must exist upstream; its
 * default version is refused, as EC2 refuses it). And what moto 5.2 drops:
 * the TagSpecifications of CopyImage, which EC2 applies to the new AMI as it
 * makes it (the proxy tags the copy upstream before the caller hears of it).
 */
export interface FaultRule {
  action: string;
  /** Only requests signed for this region; every region when absent. */
  region?: string;
  /** How many matching calls to fail; every matching call when absent. */
  times?: number;
  /** Let this many matching calls through first (to fail "the second instance's copy"); counts down. */
  after?: number;
  /** EC2 error code, e.g. RequestLimitExceeded, UnauthorizedOperation. */
  code: string;
  status: number;
  message?: string;
}

export interface RewriteRule {
  action: string;
  region?: string;
  from: RegExp;
  to: string;
}

export interface ProxyCall {
  action: string;
  region?: string;
  /** Arrival order across every request this proxy received (never reset, unlike `calls`). */
  seq: number;
  /** `forwarded`, `answered` (an action moto lacks, answered by the proxy), or the error code injected. */
  outcome: string;
}

/** An EnableImageDeprecation or DisableImageDeprecation the proxy answered. */
export interface DeprecationCall {
  action: 'EnableImageDeprecation' | 'DisableImageDeprecation';
  region?: string;
  imageId: string;
  /** EnableImageDeprecation: the DeprecateAt sent, as an ISO string. */
  deprecateAt?: string;
  /** `ok`, or the error code answered. */
  outcome: string;
}

/** A DeleteLaunchTemplateVersions the proxy answered. */
export interface TemplateVersionDeletion {
  region?: string;
  templateId: string;
  /** The versions deleted (the default version never is). */
  versions: number[];
  refused: number[];
}

/** A copy CopyImage made through the proxy (recorded when the upstream answered). */
export interface CopyRecord {
  region?: string;
  imageId: string;
  /** The `seq` of the CopyImage request that made it. */
  seq: number;
  answeredAt: number;
  /** The `seq` of the first DescribeImages whose answer showed it `available`. */
  shownAvailableSeq?: number;
}

/**
 * FaultProxy.pendCopies: copies show `pending` in DescribeImages answers
 * until both conditions hold (each when given): `delayMs` passed since their
 * CopyImage answered (a copy takes time), and `untilCopies` copies were made
 * (structural: a caller that waits for one copy before starting the next
 * never sees one become available).
 */
export interface PendingCopies {
  delayMs?: number;
  untilCopies?: number;
}

/**
 * A call held by the proxy (FaultProxy.hold): `request` before it reaches the
 * upstream (nothing happened yet), `response` after the upstream answered and
 * before the caller hears it (the resource exists; the caller does not know
 * its id). Tests kill the caller while a call is held.
 */
export interface Hold {
  action: string;
  region?: string;
  phase: 'request' | 'response';
  /** Resolves when a matching call is being held. */
  reached: Promise<void>;
  /** Lets the held call go on (a caller that is gone simply never hears it). */
  release(): void;
}

export interface FaultProxy {
  endpoint: string;
  port: number;
  faults: FaultRule[];
  rewrites: RewriteRule[];
  calls: ProxyCall[];
  deprecations: DeprecationCall[];
  templateVersionDeletions: TemplateVersionDeletion[];
  /** Calls of `action` (optionally in `region`) that reached the upstream. */
  forwarded(action: string, region?: string): number;
  /** Calls of `action` answered with an injected error (optionally of `code`). */
  injected(action: string, code?: string): number;
  /** Holds the next call of `action` (optionally in `region`) at `phase` (default `response`) until released. */
  hold(action: string, opts?: { region?: string; phase?: 'request' | 'response' }): Hold;
  /** Shorthand: answer the first `times` calls of each action with RequestLimitExceeded. */
  throttle(actions: string[], times: number): void;
  /** Copies made through the proxy, in the order their CopyImage answered. */
  copies: CopyRecord[];
  /** Keeps copies `pending` in DescribeImages answers (see PendingCopies); undefined: as the upstream says. */
  pendCopies(opts: PendingCopies | undefined): void;
  /** The most requests of `action` the proxy had open at once (received, not yet answered). */
  maxInFlight(action: string): number;
  /** Requests counted per `action region` key (every outcome), as the caller sent them. */
  countByActionRegion(): Map<string, number>;
  close(): Promise<void>;
}

export function errorXml(code: string, message: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors>` +
    `<RequestID>fault-proxy-${Math.random().toString(16).slice(2)}</RequestID></Response>`
  );
}

/** A JSON protocol error as SSM and other JSON services send it (the SDK reads `__type`). */
export function errorJson(code: string, message: string): string {
  return JSON.stringify({ __type: code, message });
}

export function regionOf(authorization: string | undefined): string | undefined {
  return authorization?.match(/Credential=[^/]+\/\d{8}\/([^/]+)\//)?.[1];
}

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const requestId = () => `fault-proxy-${Math.random().toString(16).slice(2)}`;

/** One Query API call to the upstream with the caller's headers (moto does not check signatures). */
function upstreamCall(target: URL, headers: http.IncomingHttpHeaders, form: Record<string, string>): Promise<{ status: number; text: string }> {
  const body = new URLSearchParams({ Version: '2016-11-15', ...form }).toString();
  return new Promise((resolve, reject) => {
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: '/',
        headers: { authorization: headers.authorization ?? '', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'content-length': Buffer.byteLength(body), host: target.host },
      },
      (res) => {
        const out: Buffer[] = [];
        res.on('data', (c: Buffer) => out.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, text: Buffer.concat(out).toString('utf8') }));
      },
    );
    up.on('error', reject);
    up.end(body);
  });
}

interface LocalAnswer {
  status: number;
  body: string;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const faults: FaultRule[] = [];
  const rewrites: RewriteRule[] = [];
  const calls: ProxyCall[] = [];
  const deprecations: DeprecationCall[] = [];
  const templateVersionDeletions: TemplateVersionDeletion[] = [];
  /** `region/imageId` -> DeprecationTime, as DescribeImages shows it. */
  const deprecated = new Map<string, string>();
  const copies: CopyRecord[] = [];
  let pending: PendingCopies | undefined;
  let seq = 0;
  const open = new Map<string, number>();
  const maxOpen = new Map<string, number>();
  const copyReady = (c: CopyRecord) =>
    !pending || ((pending.delayMs === undefined || Date.now() - c.answeredAt >= pending.delayMs) && (pending.untilCopies === undefined || copies.length >= pending.untilCopies));
  /** A DescribeImages answer with the copies that are not ready shown `pending`; records the first answer showing each ready copy. */
  const pendingCopies = (text: string, region: string | undefined, requestSeq: number): string =>
    text.replace(/(<imageId>(ami-[0-9a-f]+)<\/imageId>(?:(?!<imageId>)[\s\S])*?<imageState>)available(<\/imageState>)/g, (whole, head: string, id: string, tail: string) => {
      const c = copies.find((x) => x.imageId === id && x.region === region);
      if (!c) return whole;
      if (!copyReady(c)) return `${head}pending${tail}`;
      c.shownAvailableSeq ??= requestSeq;
      return whole;
    });

  const ec2Error = (status: number, code: string, message: string): LocalAnswer => ({ status, body: errorXml(code, message) });
  const ok = (action: string, inner: string): LocalAnswer => ({
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NS}"><requestId>${requestId()}</requestId>${inner}</${action}Response>`,
  });

  /** The actions moto lacks, answered here as EC2 answers them. */
  const local: Record<string, (params: URLSearchParams, headers: http.IncomingHttpHeaders, region?: string) => Promise<LocalAnswer>> = {
    async EnableImageDeprecation(params, headers, region) {
      const imageId = params.get('ImageId') ?? '';
      const at = params.get('DeprecateAt') ?? '';
      const record = (outcome: string, deprecateAt?: string) => deprecations.push({ action: 'EnableImageDeprecation', region, imageId, deprecateAt, outcome });
      const check = await upstreamCall(target, headers, { Action: 'DescribeImages', 'ImageId.1': imageId });
      if (check.status !== 200) {
        record(check.text.match(/<Code>([^<]+)<\/Code>/)?.[1] ?? `HTTP ${check.status}`);
        return { status: check.status, body: check.text };
      }
      const when = new Date(at);
      const now = Date.now();
      if (Number.isNaN(when.getTime()) || when.getTime() < now - 60_000 || when.getTime() > now + 3650 * 86_400_000 + 86_400_000) {
        record('InvalidParameterValue', at);
        return ec2Error(400, 'InvalidParameterValue', `DeprecateAt ${at} must be a time ahead and at most 10 years from now`);
      }
      // EC2 rounds the seconds to the minute.
      const kept = new Date(Math.round(when.getTime() / 60_000) * 60_000).toISOString().replace(/\.\d+Z$/, '.000Z');
      deprecated.set(`${region}/${imageId}`, kept);
      record('ok', when.toISOString());
      return ok('EnableImageDeprecation', '<return>true</return>');
    },
    async DisableImageDeprecation(params, headers, region) {
      const imageId = params.get('ImageId') ?? '';
      const check = await upstreamCall(target, headers, { Action: 'DescribeImages', 'ImageId.1': imageId });
      const outcome = check.status === 200 ? 'ok' : (check.text.match(/<Code>([^<]+)<\/Code>/)?.[1] ?? `HTTP ${check.status}`);
      deprecations.push({ action: 'DisableImageDeprecation', region, imageId, outcome });
      if (check.status !== 200) return { status: check.status, body: check.text };
      deprecated.delete(`${region}/${imageId}`);
      return ok('DisableImageDeprecation', '<return>true</return>');
    },
    async DeleteLaunchTemplateVersions(params, headers, region) {
      const form: Record<string, string> = { Action: 'DescribeLaunchTemplates' };
      if (params.get('LaunchTemplateId')) form['LaunchTemplateId.1'] = params.get('LaunchTemplateId')!;
      else form['LaunchTemplateName.1'] = params.get('LaunchTemplateName') ?? '';
      const check = await upstreamCall(target, headers, form);
      if (check.status !== 200) return { status: check.status, body: check.text };
      const templateId = check.text.match(/<launchTemplateId>([^<]+)<\/launchTemplateId>/)?.[1];
      const name = check.text.match(/<launchTemplateName>([^<]+)<\/launchTemplateName>/)?.[1] ?? '';
      const defaultVersion = Number(check.text.match(/<defaultVersionNumber>(\d+)<\/defaultVersionNumber>/)?.[1]);
      if (!templateId) return ec2Error(400, 'InvalidLaunchTemplateId.NotFound', 'the launch template does not exist');
      const asked = [...params.entries()].filter(([k]) => /^LaunchTemplateVersion\.\d+$/.test(k)).map(([, v]) => Number(v));
      const versions = asked.filter((v) => v !== defaultVersion);
      const refused = asked.filter((v) => v === defaultVersion);
      templateVersionDeletions.push({ region, templateId, versions, refused });
      const item = (v: number) => `<launchTemplateId>${templateId}</launchTemplateId><launchTemplateName>${name}</launchTemplateName><versionNumber>${v}</versionNumber>`;
      return ok(
        'DeleteLaunchTemplateVersions',
        `<successfullyDeletedLaunchTemplateVersionSet>${versions.map((v) => `<item>${item(v)}</item>`).join('')}</successfullyDeletedLaunchTemplateVersionSet>` +
          `<unsuccessfullyDeletedLaunchTemplateVersionSet>${refused
            .map((v) => `<item>${item(v)}<responseError><code>launchTemplateVersionDefaultVersion</code><message>Cannot delete the default version</message></responseError></item>`)
            .join('')}</unsuccessfullyDeletedLaunchTemplateVersionSet>`,
      );
    },
  };
  const matches = (r: { action: string; region?: string }, action: string, region?: string) =>
    r.action === action && (r.region === undefined || r.region === region);

  /** CopyImage's TagSpecifications (ResourceType image), applied upstream to the copy moto made without them. */
  const tagCopy = async (params: URLSearchParams, answer: string, headers: http.IncomingHttpHeaders) => {
    const imageId = answer.match(/<imageId>(ami-[0-9a-f]+)<\/imageId>/)?.[1];
    const form: Record<string, string> = { Action: 'CreateTags', 'ResourceId.1': imageId ?? '' };
    let n = 0;
    for (let i = 1; params.has(`TagSpecification.${i}.ResourceType`); i++) {
      if (params.get(`TagSpecification.${i}.ResourceType`) !== 'image') continue;
      for (let j = 1; params.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) {
        n++;
        form[`Tag.${n}.Key`] = params.get(`TagSpecification.${i}.Tag.${j}.Key`)!;
        form[`Tag.${n}.Value`] = params.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '';
      }
    }
    if (imageId && n > 0) await upstreamCall(target, headers, form);
  };

  interface PendingHold extends Hold {
    used: boolean;
    arrive(): void;
    gate: Promise<void>;
  }
  const holds: PendingHold[] = [];
  /** The gate of the first unused hold for this call at this phase (and marks it reached), or undefined. */
  const holdFor = (action: string, region: string | undefined, phase: Hold['phase']): Promise<void> | undefined => {
    const h = holds.find((x) => !x.used && x.phase === phase && matches(x, action, region));
    if (!h) return undefined;
    h.used = true;
    h.arrive();
    return h.gate;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const amzTarget = req.headers['x-amz-target'];
      const jsonTarget = typeof amzTarget === 'string' ? amzTarget.split('.').pop() : undefined;
      const action =
        jsonTarget ?? new URLSearchParams(body.toString('utf8')).get('Action') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('Action') ?? '';
      const region = regionOf(req.headers.authorization);
      const mySeq = ++seq;
      open.set(action, (open.get(action) ?? 0) + 1);
      maxOpen.set(action, Math.max(maxOpen.get(action) ?? 0, open.get(action)!));
      res.once('close', () => open.set(action, open.get(action)! - 1));

      const rule = faults.find((f) => matches(f, action, region) && (f.times === undefined || f.times > 0));
      if (rule?.after) rule.after--;
      else if (rule) {
        if (rule.times !== undefined) rule.times--;
        calls.push({ action, region, seq: mySeq, outcome: rule.code });
        const message = rule.message ?? `injected ${rule.code} by the fault proxy`;
        const [type, text] = jsonTarget ? ['application/x-amz-json-1.1', errorJson(rule.code, message)] : ['text/xml', errorXml(rule.code, message)];
        res.writeHead(rule.status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }

      const answer = local[action];
      if (answer && !jsonTarget) {
        calls.push({ action, region, seq: mySeq, outcome: 'answered' });
        answer(new URLSearchParams(body.toString('utf8')), req.headers, region).then(
          (a) => {
            res.writeHead(a.status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(a.body) });
            res.end(a.body);
          },
          (err: unknown) => {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(String(err));
          },
        );
        return;
      }

      calls.push({ action, region, seq: mySeq, outcome: 'forwarded' });
      const forward = () => {
        const up = http.request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: target.host },
          },
          (upRes) => {
            const out: Buffer[] = [];
            upRes.on('data', (c: Buffer) => out.push(c));
            upRes.on('end', async () => {
              let payload = Buffer.concat(out);
              if (action === 'CopyImage' && upRes.statusCode === 200) {
                await tagCopy(new URLSearchParams(body.toString('utf8')), payload.toString('utf8'), req.headers);
                const imageId = payload.toString('utf8').match(/<imageId>(ami-[0-9a-f]+)<\/imageId>/)?.[1];
                if (imageId) copies.push({ region, imageId, seq: mySeq, answeredAt: Date.now() });
              }
              if (action === 'DescribeImages' && upRes.statusCode === 200 && copies.length > 0) {
                payload = Buffer.from(pendingCopies(payload.toString('utf8'), region, mySeq), 'utf8');
              }
              const applicable = rewrites.filter((r) => matches(r, action, region));
              if (action === 'DescribeImages' && [...deprecated.keys()].some((k) => k.startsWith(`${region}/`))) {
                // The deprecation times this proxy answered for, as EC2 shows them.
                const text = payload.toString('utf8').replace(/<imageId>(ami-[0-9a-f]+)<\/imageId>/g, (whole, id: string) => {
                  const at = deprecated.get(`${region}/${id}`);
                  return at ? `${whole}<deprecationTime>${at}</deprecationTime>` : whole;
                });
                payload = Buffer.from(text, 'utf8');
              }
              if (applicable.length > 0) {
                let text = payload.toString('utf8');
                for (const r of applicable) text = text.replace(r.from, r.to);
                payload = Buffer.from(text, 'utf8');
              }
              const headers = { ...upRes.headers };
              delete headers['transfer-encoding'];
              headers['content-length'] = String(payload.length);
              const send = () => {
                if (res.destroyed) return; // the caller is gone (killed while the call was held)
                res.writeHead(upRes.statusCode ?? 502, headers);
                res.end(payload);
              };
              const responseGate = holdFor(action, region, 'response');
              if (responseGate) void responseGate.then(send);
              else send();
            });
          },
        );
        up.on('error', (err) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(err));
        });
        up.end(body);
      };
      const requestGate = holdFor(action, region, 'request');
      if (requestGate) void requestGate.then(forward);
      else forward();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    faults,
    rewrites,
    calls,
    deprecations,
    templateVersionDeletions,
    forwarded: (action, region) => calls.filter((c) => c.outcome === 'forwarded' && matches({ action, region }, c.action, c.region)).length,
    injected: (action, code) => calls.filter((c) => c.action === action && c.outcome !== 'forwarded' && (code === undefined || c.outcome === code)).length,
    hold(action, opts = {}) {
      let arrive!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((r) => (arrive = r));
      const gate = new Promise<void>((r) => (release = r));
      const h: PendingHold = { action, region: opts.region, phase: opts.phase ?? 'response', reached, release, used: false, arrive, gate };
      holds.push(h);
      return h;
    },
    copies,
    pendCopies(opts) {
      pending = opts;
    },
    maxInFlight: (action) => maxOpen.get(action) ?? 0,
    countByActionRegion() {
      const m = new Map<string, number>();
      for (const c of calls) m.set(`${c.action} ${c.region ?? ''}`, (m.get(`${c.action} ${c.region ?? ''}`) ?? 0) + 1);
      return m;
    },
    throttle(actions, times) {
      for (const action of actions) faults.push({ action, times, code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const h of holds) h.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
