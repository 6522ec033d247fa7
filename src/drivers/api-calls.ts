/**
 * The remote API calls a driver made, counted by service, region and action,
 * for the manifest and the report: what a build cost in calls, and how much
 * of it was retries and throttling.
 *
 * A driver that talks to a cloud API has this capability when it exposes a
 * ledger as `apiCalls` (MetersApiCalls); the ec2 driver counts every call of
 * every SDK client it makes (EC2, SSM) in one. One driver serves one
 * instance, so its ledger is that instance's.
 */

/** The counts of one action in one region. */
export interface ApiCallCount {
  /** The service's signing name: `ec2`, `ssm`. */
  service: string;
  region: string;
  /** The API action, e.g. `CopyImage`. */
  action: string;
  /** Calls the driver made (one per SDK `send`, however many attempts it took). */
  calls: number;
  /** HTTP requests sent: the first attempt of each call plus every retry. */
  requests: number;
  /** Attempts after the first: requests - calls, unless a call ended before its first request. */
  retries: number;
  /** Attempts answered with throttling (RequestLimitExceeded, Throttling, HTTP 429). */
  throttled: number;
  /** Calls that ended in an error after their retries (including NotFound answers the driver expects). */
  failed: number;
}

export type ApiCallTotals = Pick<ApiCallCount, 'calls' | 'requests' | 'retries' | 'throttled' | 'failed'>;

/** What the manifest and the report show: the totals, and each action in each region. */
export interface ApiCallSummary {
  total: ApiCallTotals;
  /** Sorted by service, region, action. */
  byAction: ApiCallCount[];
}

const zero = (): ApiCallTotals => ({ calls: 0, requests: 0, retries: 0, throttled: 0, failed: 0 });

function add(into: ApiCallTotals, c: ApiCallTotals): void {
  into.calls += c.calls;
  into.requests += c.requests;
  into.retries += c.retries;
  into.throttled += c.throttled;
  into.failed += c.failed;
}

/** Counts calls as they happen. Counting never throws and never changes a call. */
export class ApiCallLedger {
  private readonly counts = new Map<string, ApiCallCount>();

  private entry(service: string, region: string, action: string): ApiCallCount {
    const key = `${service}\0${region}\0${action}`;
    let c = this.counts.get(key);
    if (!c) {
      c = { service, region, action, ...zero() };
      this.counts.set(key, c);
    }
    return c;
  }

  /** A call began (once per call, before its first attempt). */
  call(service: string, region: string, action: string): void {
    this.entry(service, region, action).calls++;
  }

  /** One attempt of a call was sent; `retry` when it is not the call's first. */
  request(service: string, region: string, action: string, o: { retry: boolean; throttled: boolean }): void {
    const c = this.entry(service, region, action);
    c.requests++;
    if (o.retry) c.retries++;
    if (o.throttled) c.throttled++;
  }

  /** A call ended in an error, after its retries. */
  failed(service: string, region: string, action: string): void {
    this.entry(service, region, action).failed++;
  }

  /** The counts so far (a copy: later calls do not change it). */
  summary(): ApiCallSummary {
    return summarize([...this.counts.values()].map((c) => ({ ...c })));
  }
}

function summarize(rows: ApiCallCount[]): ApiCallSummary {
  const total = zero();
  for (const r of rows) add(total, r);
  const byAction = rows.sort((a, b) => a.service.localeCompare(b.service) || a.region.localeCompare(b.region) || a.action.localeCompare(b.action));
  return { total, byAction };
}

/** The sum of several summaries (a build's instances), merged per service, region and action. */
export function sumApiCalls(summaries: ApiCallSummary[]): ApiCallSummary {
  const merged = new Map<string, ApiCallCount>();
  for (const s of summaries) {
    for (const c of s.byAction) {
      const key = `${c.service}\0${c.region}\0${c.action}`;
      const m = merged.get(key);
      if (m) add(m, c);
      else merged.set(key, { ...c });
    }
  }
  return summarize([...merged.values()]);
}

/** The counts of several ledgers together (an instance's build machine and its boot test machine). */
export function summaryOf(ledgers: ApiCallLedger[]): ApiCallSummary {
  return sumApiCalls(ledgers.map((l) => l.summary()));
}

/** The capability: a driver that counts its API calls. */
export interface MetersApiCalls {
  readonly apiCalls: ApiCallLedger;
}

/** The driver's ledger, when it keeps one. */
export function apiCallsOf(driver: object | undefined): ApiCallLedger | undefined {
  const ledger = (driver as Partial<MetersApiCalls> | undefined)?.apiCalls;
  return ledger instanceof ApiCallLedger ? ledger : undefined;
}
