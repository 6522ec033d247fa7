import { HallmarkError, isAbortError, type ErrorOptions } from '../../kernel/errors.js';

/**
 * How hallmark reads errors from the EC2 API. The SDK's retry strategy already
 * retried throttling and 5xx for the single call; what reaches this module is
 * final for that call.
 */

/** An EC2 API call failed in a way the user must act on. */
export class Ec2Error extends HallmarkError {
  override readonly code = 'EC2';
  /** The AWS error code, e.g. UnauthorizedOperation. */
  readonly awsCode?: string;
  readonly region?: string;

  constructor(message: string, options: ErrorOptions & { awsCode?: string; region?: string } = {}) {
    super(message, options);
    this.awsCode = options.awsCode;
    this.region = options.region;
  }
}

/** The AWS error code (`name` in SDK v3), or undefined for non-AWS errors. */
export function awsCode(err: unknown): string | undefined {
  if (err instanceof Ec2Error) return err.awsCode;
  if (err && typeof err === 'object' && '$metadata' in err) {
    const e = err as { name?: string; Code?: string };
    return e.Code ?? e.name;
  }
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  const c = awsCode(err);
  return c !== undefined && c.endsWith('.NotFound');
}

/** Errors that will not go away by waiting: a waiter stops at once on these. */
export function isPermanent(err: unknown): boolean {
  const c = awsCode(err);
  if (!c) return false;
  return (
    c === 'UnauthorizedOperation' ||
    c.startsWith('AccessDenied') ||
    c === 'AuthFailure' ||
    c === 'OptInRequired' ||
    c === 'Blocked' ||
    c === 'InvalidClientTokenId' ||
    c === 'SignatureDoesNotMatch' ||
    c === 'UnrecognizedClientException' ||
    c.startsWith('InvalidParameter') ||
    c.endsWith('.Malformed')
  );
}

/** An answer that says "slow down": RequestLimitExceeded (EC2), Throttling / ThrottlingException (SSM, STS), HTTP 429. */
export function isThrottling(err: unknown): boolean {
  const c = awsCode(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status === 429 || (c !== undefined && /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown/.test(c));
}

/** Throttling and server-side errors: worth another poll once the SDK's own retries are spent. */
export function isTransient(err: unknown): boolean {
  if (isAbortError(err)) return false;
  const c = awsCode(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (isThrottling(err) || (c && /ServiceUnavailable|InternalError|Unavailable/.test(c))) return true;
  // Network errors (no $metadata): connection reset, DNS hiccup.
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND)$/.test(code);
}

const hints: Record<string, string> = {
  UnauthorizedOperation: 'the credentials lack an IAM permission for this call; add it to the policy of the role or user hallmark runs as',
  AuthFailure: 'the AWS credentials are not valid; check AWS_PROFILE / AWS_ACCESS_KEY_ID or shared_credentials_profile',
  OptInRequired: 'the account is not subscribed to this region or product; enable the region in the account settings',
};

/** Wraps an SDK error as an Ec2Error naming the call, the region and the next step. */
export function wrapAws(err: unknown, what: string, region?: string, hint?: string): unknown {
  if (err instanceof HallmarkError || isAbortError(err)) return err;
  const c = awsCode(err);
  if (c === undefined) return err;
  const message = err instanceof Error ? err.message : String(err);
  const h = hint ?? hints[c] ?? (c.startsWith('AccessDenied') ? hints.UnauthorizedOperation : undefined);
  return new Ec2Error(`${what}${region ? ` in ${region}` : ''} failed: ${c}: ${message}`, { cause: err, awsCode: c, region, hint: h });
}
