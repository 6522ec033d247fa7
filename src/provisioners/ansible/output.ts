/**
 * Reading ansible-playbook's default (human) callback output as it streams:
 * masking secrets line by line, and remembering which task failed on which
 * host and why, so that the error can say so instead of "exit code 2".
 */

export const MASK = '********';

/**
 * Replaces every secret in the text with MASK. Secrets are matched as
 * written and as they appear inside JSON strings (Ansible prints results as
 * JSON, escaping quotes, backslashes and newlines). Longest first, so that a
 * secret containing another is masked whole.
 */
export function makeMasker(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s === '') continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    // A multi-line secret is printed line by line too.
    for (const line of s.split('\n')) if (line.trim().length >= 4) forms.add(line);
  }
  const list = [...forms].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const f of list) out = out.split(f).join(MASK);
    return out;
  };
}

/**
 * Turns chunks into whole lines before handing them on, so that a secret
 * split across two chunks is still masked. `flush()` emits what is left
 * after the process ends.
 */
export class LineBuffer {
  private pending = '';

  constructor(private readonly emit: (lines: string) => void) {}

  push(chunk: string): void {
    this.pending += chunk;
    const cut = this.pending.lastIndexOf('\n');
    if (cut < 0) return;
    const lines = this.pending.slice(0, cut + 1);
    this.pending = this.pending.slice(cut + 1);
    this.emit(lines);
  }

  flush(): void {
    if (this.pending) this.emit(this.pending);
    this.pending = '';
  }
}

export interface TaskFailure {
  task: string;
  host: string;
  /** The host's message: `msg`, else stderr/stdout of a failed command, else the raw result. */
  message: string;
  unreachable: boolean;
}

export interface RecapEntry {
  host: string;
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

const TASK_RE = /^(?:TASK|RUNNING HANDLER) \[(.*)\] \**\s*$/;
const FAIL_RE = /^(fatal|failed): \[([^\]]+)\](?: \(item=.*\))?: (FAILED|UNREACHABLE)! => (.*)$/;
const ITEM_FAIL_RE = /^failed: \[([^\]]+)\] \((item=.*)\) => (.*)$/;
const RECAP_RE = /^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/;

/** Parses default-callback output line by line (already masked). */
export class PlaybookOutputParser {
  private task = '(before any task)';
  private pending = '';
  readonly failures: TaskFailure[] = [];
  readonly recap: RecapEntry[] = [];
  /** `ERROR! ...` lines: syntax errors, missing roles, before any task ran. */
  readonly errors: string[] = [];

  push(text: string): void {
    this.pending += text;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  end(): void {
    if (this.pending) this.line(this.pending);
    this.pending = '';
  }

  private line(line: string): void {
    const t = TASK_RE.exec(line);
    if (t) {
      this.task = t[1]!;
      return;
    }
    const f = FAIL_RE.exec(line);
    const itemFail = f ? undefined : ITEM_FAIL_RE.exec(line);
    if (f || itemFail) {
      const host = f ? f[2]! : itemFail![1]!;
      const json = f ? f[4]! : itemFail![3]!;
      const msg = resultMessage(json);
      this.failures.push({
        task: this.task,
        host,
        message: itemFail ? `${itemFail[2]}: ${msg}` : msg,
        unreachable: f?.[3] === 'UNREACHABLE',
      });
      return;
    }
    if (line.trim() === '...ignoring') {
      // The task had ignore_errors: its failure does not count.
      this.failures.pop();
      return;
    }
    const r = RECAP_RE.exec(line);
    if (r) {
      this.recap.push({ host: r[1]!, ok: +r[2]!, changed: +r[3]!, unreachable: +r[4]!, failed: +r[5]! });
      return;
    }
    if (line.startsWith('ERROR! ')) this.errors.push(line.slice('ERROR! '.length));
  }

  /** One sentence for an error message: the failed task(s) and the host's message. */
  summary(): string | undefined {
    if (this.failures.length > 0) {
      return this.failures
        .map((f) => `task "${f.task}" ${f.unreachable ? 'could not reach' : 'failed on'} host ${f.host}: ${f.message}`)
        .join('; ');
    }
    if (this.errors.length > 0) return this.errors.join('; ');
    return undefined;
  }
}

/** The human part of a task result printed as JSON. */
function resultMessage(json: string): string {
  try {
    const r = JSON.parse(json) as Record<string, unknown>;
    const parts: string[] = [];
    if (typeof r.msg === 'string' && r.msg) parts.push(r.msg);
    for (const k of ['stderr', 'stdout'] as const) {
      const v = r[k];
      if (typeof v === 'string' && v.trim()) {
        parts.push(`${k}: ${v.trim().split('\n').slice(-5).join(' | ')}`);
        break;
      }
    }
    if (typeof r.rc === 'number' && r.rc !== 0 && !parts.some((p) => p.includes('return code'))) parts.push(`rc ${r.rc}`);
    return parts.length > 0 ? parts.join('; ') : json;
  } catch {
    return json; // not JSON (a different result format): show as it is
  }
}
