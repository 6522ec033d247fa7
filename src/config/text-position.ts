/**
 * Line and column (both 1-based) of offsets in a file's original text, and
 * the offset map that ERB substitution leaves behind, so that a position in
 * the substituted text is reported where the user wrote it.
 */
export interface LineCol {
  line: number;
  column: number;
}

export class TextPositions {
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  at(offset: number): LineCol {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - this.lineStarts[lo]! + 1 };
  }
}

/** One replaced span: [outStart, outEnd) in the output stood for [inStart, inEnd) in the input. */
export interface Replacement {
  outStart: number;
  outEnd: number;
  inStart: number;
  inEnd: number;
}

/**
 * Maps an offset in the substituted text back to the original text. Offsets
 * inside a substituted value map to the start of the ERB tag that produced it.
 * `replacements` must be sorted by position.
 */
export function originalOffset(replacements: readonly Replacement[], out: number): number {
  let shift = 0;
  for (const r of replacements) {
    if (out < r.outStart) break;
    if (out < r.outEnd) return r.inStart;
    shift = r.inEnd - r.outEnd;
  }
  return out + shift;
}
