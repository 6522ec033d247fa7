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
 */
export interface FaultRule {
  action: string;
  /** Only requests signed for this region; every region when absent. */
  region?: string;
  /** How many matching calls to fail; every matching call when absent. */
  times?: number;
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
  /** `forwarded`, or the error code injected. */
  outcome: string;
}

export interface FaultProxy {
  endpoint: string;
  port: number;
  faults: FaultRule[];
  rewrites: RewriteRule[];
  calls: ProxyCall[];
  /** Calls of `action` (optionally in `region`) that reached the upstream. */
  forwarded(action: string, region?: string): number;
  /** Calls of `action` answered with an injected error (optionally of `code`). */
  injected(action: string, code?: string): number;
  /** Shorthand: answer the first `times` calls of each action with RequestLimitExceeded. */
  throttle(actions: string[], times: number): void;
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

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const faults: FaultRule[] = [];
  const rewrites: RewriteRule[] = [];
  const calls: ProxyCall[] = [];
  const matches = (r: { action: string; region?: string }, action: string, region?: string) =>
    r.action === action && (r.region === undefined || r.region === region);

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

      const rule = faults.find((f) => matches(f, action, region) && (f.times === undefined || f.times > 0));
      if (rule) {
        if (rule.times !== undefined) rule.times--;
        calls.push({ action, region, outcome: rule.code });
        const message = rule.message ?? `injected ${rule.code} by the fault proxy`;
        const [type, text] = jsonTarget ? ['application/x-amz-json-1.1', errorJson(rule.code, message)] : ['text/xml', errorXml(rule.code, message)];
        res.writeHead(rule.status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }

      calls.push({ action, region, outcome: 'forwarded' });
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
          upRes.on('end', () => {
            let payload = Buffer.concat(out);
            const applicable = rewrites.filter((r) => matches(r, action, region));
            if (applicable.length > 0) {
              let text = payload.toString('utf8');
              for (const r of applicable) text = text.replace(r.from, r.to);
              payload = Buffer.from(text, 'utf8');
            }
            const headers = { ...upRes.headers };
            delete headers['transfer-encoding'];
            headers['content-length'] = String(payload.length);
            res.writeHead(upRes.statusCode ?? 502, headers);
            res.end(payload);
          });
        },
      );
      up.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
      up.end(body);
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
    forwarded: (action, region) => calls.filter((c) => c.outcome === 'forwarded' && matches({ action, region }, c.action, c.region)).length,
    injected: (action, code) => calls.filter((c) => c.action === action && c.outcome !== 'forwarded' && (code === undefined || c.outcome === code)).length,
    throttle(actions, times) {
      for (const action of actions) faults.push({ action, times, code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
