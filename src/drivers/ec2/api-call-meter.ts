import type { ApiCallLedger } from '../api-calls.js';
import { isThrottling } from './aws-errors.js';

/**
 * The part of an AWS SDK v3 client's middleware stack the meter uses: any
 * client (EC2, SSM, ...) has it.
 */
type Middleware = (next: (args: never) => Promise<unknown>, context: { commandName?: string }) => (args: never) => Promise<unknown>;
interface MiddlewareStack {
  add(middleware: Middleware, options: { step: 'initialize'; name: string; priority?: 'high'; override?: boolean }): void;
  add(middleware: Middleware, options: { step: 'deserialize'; name: string; priority?: 'high'; override?: boolean }): void;
}

/**
 * Counts every call of one client (one service in one region) in `ledger`:
 *
 * - at `initialize` (once per `send`, outside the retry loop): the call, and
 *   whether it ended in an error after its retries;
 * - at `deserialize`, high priority (inside the retry loop, once per HTTP
 *   attempt, around the deserializer so that it sees the parsed error):
 *   each request, whether it was a retry, and whether it was throttled.
 *
 * So `requests` is what the endpoint received and `calls` what the driver
 * asked for; the difference is the SDK's retries (max_attempts, retry_mode).
 * The action is the command's name (`CopyImageCommand` counts as CopyImage).
 * The meter never changes a call: it rethrows every error as it came.
 */
export function meterClient(client: { middlewareStack: MiddlewareStack }, ledger: ApiCallLedger, service: string, region: string): void {
  const attempts = new WeakMap<object, number>();
  const actionOf = (context: { commandName?: string }) => (context.commandName ?? 'unknown').replace(/Command$/, '');
  client.middlewareStack.add(
    (next, context: { commandName?: string }) => async (args) => {
      const action = actionOf(context);
      ledger.call(service, region, action);
      try {
        return await next(args);
      } catch (err) {
        ledger.failed(service, region, action);
        throw err;
      }
    },
    { step: 'initialize', name: 'hallmarkApiCallMeter', priority: 'high', override: true },
  );
  client.middlewareStack.add(
    (next, context: { commandName?: string }) => async (args) => {
      const action = actionOf(context);
      const n = (attempts.get(context) ?? 0) + 1;
      attempts.set(context, n);
      try {
        const out = await next(args);
        ledger.request(service, region, action, { retry: n > 1, throttled: false });
        return out;
      } catch (err) {
        ledger.request(service, region, action, { retry: n > 1, throttled: isThrottling(err) });
        throw err;
      }
    },
    { step: 'deserialize', name: 'hallmarkApiRequestMeter', priority: 'high', override: true },
  );
}
