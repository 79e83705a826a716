/**
 * Payment card numbers: 13 to 19 digits, optionally in groups separated by a single space or dash, that pass
 * the Luhn check, standing as a word of their own (no letter, digit or _ directly before or after).
 */

export const CARD_REDACTION = '[REDACTED:card]';

/** Runs of digit groups joined by single separators, delimited like a word. */
const RUN = /(?<![\p{L}\p{N}_])\d+(?:[ -]\d+)*(?![\p{L}\p{N}_])/gu;
/** A cheap pre-filter on raw text: 13 digits, single separators allowed. */
const MAYBE = /\d(?:[ -]?\d){12}/;
const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

/** Luhn (mod 10) over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * True when the text may hold a card number (a run of at least 13 digits with single separators). A JSON text
 * that escapes digits (`\u0034`) is not read by the regex, so it counts as "may".
 */
export function mayContainCardNumber(text: string): boolean {
  return MAYBE.test(text) || text.includes('\\u003');
}

export type Span = { start: number; end: number };

/**
 * Where the card numbers are. A run of several groups (say two cards separated by one space) is cut at group
 * boundaries: from each group, the longest sequence of whole groups with 13–19 digits that passes Luhn is a
 * card; a group is never split, so a 25-digit number holds no card. Linear in the text: each Luhn check of a
 * candidate is O(1) from prefix sums over the run.
 */
export function findCardNumbers(text: string): Span[] {
  const spans: Span[] = [];
  RUN.lastIndex = 0;
  for (let m = RUN.exec(text); m !== null; m = RUN.exec(text)) {
    if (m[0].length >= MIN_DIGITS) cardsInRun(m[0], m.index, spans);
  }
  return spans;
}

/** The text with each card number replaced by [REDACTED:card], and how many there were. */
export function redactCardNumbers(text: string): { text: string; count: number } {
  const spans = findCardNumbers(text);
  if (spans.length === 0) return { text, count: 0 };
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + CARD_REDACTION;
    at = s.end;
  }
  return { text: out + text.slice(at), count: spans.length };
}

/** 2d, minus 9 when over 9: a digit's contribution in a doubled position. */
const DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9] as const;

function cardsInRun(run: string, offset: number, spans: Span[]): void {
  // groups: [start, end) in the run, and how many digits come before each
  const starts: number[] = [];
  const ends: number[] = [];
  const before: number[] = [];
  // even[k] / odd[k]: Luhn sums of digits [0, k) when the last digit of a candidate is at an even / odd index
  const even = [0];
  const odd = [0];
  let digits = 0;
  let groupStart = 0;
  for (let i = 0; i <= run.length; i++) {
    const c = i < run.length ? run.charCodeAt(i) : 32;
    if (c === 32 || c === 45) {
      starts.push(groupStart);
      ends.push(i);
      before.push(digits - (i - groupStart));
      groupStart = i + 1;
      continue;
    }
    const d = c - 48;
    const dd = DOUBLED[d]!;
    even.push(even[digits]! + (digits % 2 === 0 ? d : dd));
    odd.push(odd[digits]! + (digits % 2 === 1 ? d : dd));
    digits++;
  }
  before.push(digits);

  let i = 0;
  while (i < starts.length) {
    const a = before[i]!;
    let best = -1;
    for (let j = i; j < starts.length; j++) {
      const b = before[j + 1]!; // digits [a, b) = groups i..j
      if (b - a > MAX_DIGITS) break;
      if (b - a < MIN_DIGITS) continue;
      const sums = (b - 1) % 2 === 0 ? even : odd;
      if ((sums[b]! - sums[a]!) % 10 === 0) best = j;
    }
    if (best === -1) {
      i++;
      continue;
    }
    spans.push({ start: offset + starts[i]!, end: offset + ends[best]! });
    i = best + 1;
  }
}
