import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ApiCallLedger } from '../api-calls.js';
import { meterClient } from './api-call-meter.js';
import { Ec2Error } from './aws-errors.js';
import type { Ec2Options } from './schema.js';

/**
 * One EC2Client per region, created on first use. Credentials come from the
 * SDK's default chain (env, shared files with `shared_credentials_profile`,
 * SSO, web identity, IMDS) unless the library caller passes its own.
 *
 * Throttling (RequestLimitExceeded, Throttling) and 5xx are retried by the
 * SDK's retry strategy for the single call, with exponential backoff and full
 * jitter, `max_attempts` times in `retry_mode`; hallmark never re-runs a
 * build step because one call was throttled. Calls that create something
 * carry a deterministic ClientToken so that a retried call cannot create two.
 */
export interface ClientSettings {
  endpoint?: string;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  profile?: string;
  credentials?: EC2ClientConfig['credentials'];
  /** Region used when the options name none and the default chain has none. */
  defaultRegion?: string;
  /** Where every client made from these settings counts its calls (api-call-meter.ts); uncounted when absent. */
  calls?: ApiCallLedger;
}

export function clientSettings(o: Ec2Options, credentials?: ClientSettings['credentials']): ClientSettings {
  return {
    endpoint: o.endpoint,
    maxAttempts: o.max_attempts,
    retryMode: o.retry_mode,
    profile: o.shared_credentials_profile,
    credentials,
    calls: new ApiCallLedger(),
  };
}

/**
 * The configuration of every AWS client the driver makes, whatever the
 * service (EC2, and SSM for publish.ssm_parameter): one endpoint, one set of
 * credentials, one retry policy, so a build never talks to two clouds.
 */
export function clientConfig(s: ClientSettings, region: string) {
  return {
    region,
    endpoint: s.endpoint,
    maxAttempts: s.maxAttempts,
    retryMode: s.retryMode,
    profile: s.profile,
    credentials: s.credentials,
    // A call that hangs must not hang the build: these bound one attempt.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  };
}

/** One SDK client per region, made on first use from the same settings; each counts its calls in `settings.calls`. */
export class RegionalClients<C extends { destroy(): void } & Parameters<typeof meterClient>[0]> {
  private readonly clients = new Map<string, C>();

  constructor(
    readonly settings: ClientSettings,
    /** The service's signing name (`ec2`, `ssm`), as the calls are counted. */
    readonly service: string,
    private readonly make: (config: ReturnType<typeof clientConfig>) => C,
  ) {}

  get(region: string): C {
    let c = this.clients.get(region);
    if (!c) {
      c = this.make(clientConfig(this.settings, region));
      if (this.settings.calls) meterClient(c, this.settings.calls, this.service, region);
      this.clients.set(region, c);
    }
    return c;
  }

  /** Closes keep-alive sockets; the clients can still be used afterwards. */
  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

export class Ec2Clients extends RegionalClients<EC2Client> {
  constructor(settings: ClientSettings) {
    super(settings, 'ec2', (config) => new EC2Client(config));
  }

  /**
   * The region to work in: the option, else the default chain's (AWS_REGION,
   * the profile's region). Throws a clear error when neither names one.
   */
  async resolveRegion(optionRegion: string | undefined): Promise<string> {
    if (optionRegion) return optionRegion;
    const probe = new EC2Client({ profile: this.settings.profile });
    try {
      const r = await probe.config.region();
      if (r) return r;
    } catch {
      // fall through to the error below
    } finally {
      probe.destroy();
    }
    throw new Ec2Error('no AWS region given', {
      hint: 'set `region:` in the ec2 driver block, or AWS_REGION / the profile region',
    });
  }

}
