/**
 * The part of goss's Go templates hallmark understands: `{{ .Vars.name }}`
 * and `{{ .Vars.a.b }}` (nested keys), whitespace-trimming `{{-`/`-}}` too.
 * Any other action (range, if, pipelines, functions, .Env) is an error with
 * its line, never left in the text: a half-rendered check could pass by accident.
 */
import type { ConfigProblem } from '../../kernel/errors.js';

const ACTION = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs;

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function render(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v); // lists and maps as YAML flow
}

export function renderTemplate(text: string, file: string, vars: Record<string, unknown>, _env?: Record<string, string | undefined>): { text: string; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const out = text.replace(ACTION, (whole: string, trimL: string, expr: string, trimR: string, offset: number) => {
    const m = /^\.Vars((?:\.[A-Za-z0-9_-]+)+)$/.exec(expr);
    const line = lineOf(text, offset);
    if (!m) {
      problems.push({
        file,
        line,
        path: '',
        message: `unsupported template action ${whole}`,
        expected: '{{ .Vars.name }}',
        hint: 'only variable substitution from verifier.vars is supported',
      });
      return whole;
    }
    let v: unknown = vars;
    for (const k of m[1]!.slice(1).split('.')) {
      v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    }
    if (v === undefined) {
      problems.push({ file, line, path: '', message: `template variable ${m[1]!.slice(1)} is not defined`, hint: 'set it under verifier.vars' });
      return whole;
    }
    return (trimL ? '\u0000L' : '') + render(v) + (trimR ? '\u0000R' : '');
  });
  // Go's {{- and -}} trim the whitespace next to the action.
  return { text: out.replace(/\s*\u0000L/g, '').replace(/\u0000R\s*/g, ''), problems };
}
