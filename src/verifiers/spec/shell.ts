/** POSIX sh single-quoting: safe for any string, including newlines and quotes. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
