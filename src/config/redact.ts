/**
 * Redaction for `hallmark diagnose` and anything else that shows a config.
 * The value of every key matching SECRET_KEY becomes "***"; when that value
 * is a map (the ansible provisioner's `secret_extra_vars`, say) its keys are
 * kept and every value below them is masked, so the output still shows
 * which variables are set. `ssh_key` and other key *paths* are not secrets
 * and are kept. Passwords in URLs (`https://user:pw@host`) are masked too.
 */
export const SECRET_KEY = /password|passphrase|secret|token|access_key|private_key|credential/i;
const MASK = '***';

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value === 'string') return value.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+@/gi, `$1${MASK}@`);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? maskAll(v) : redactSecrets(v);
  return out;
}

function maskAll(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (Array.isArray(v)) return v.map(maskAll);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskAll(x)]));
  return MASK;
}
