/**
 * HTTP-date parsing for Expires and Date: the three forms RFC 9110 §5.6.7 lets a recipient
 * accept, and nothing else. `Date.parse` is not used because it accepts far more (bare numbers,
 * local time zones, ISO strings) and an Expires it wrongly accepts would make a stale response
 * look fresh.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LONG_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

// Sun, 06 Nov 1994 08:49:37 GMT
const IMF = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC850 = /^([A-Za-z]{6,9}), (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// Sun Nov  6 08:49:37 1994
const ASCTIME = /^([A-Za-z]{3}) ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function build(
  year: number,
  monName: string,
  day: number,
  hour: number,
  min: number,
  sec: number,
): number | undefined {
  const mon = MONTHS.indexOf(monName);
  // Years before the epoch or past 9999 are what the Rust parser rejects; callers treat a
  // rejected Expires as already expired, which is what RFC 9111 asks for invalid dates.
  if (mon < 0 || year < 1970 || year > 9999 || hour > 23 || min > 59 || sec > 59 || day < 1) {
    return undefined;
  }
  const ms = Date.UTC(year, mon, day, hour, min, sec);
  // Reject Feb 30 and friends instead of letting Date.UTC roll them over.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms;
}

/**
 * Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime) into epoch milliseconds, or `undefined`
 * when the value is not one. Two-digit RFC 850 years below 70 are 20xx, others 19xx.
 *
 * @example
 * ```ts
 * parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'); // 784111777000
 * parseHttpDate('0');                             // undefined
 * ```
 */
export function parseHttpDate(value: string): number | undefined {
  const s = value.trim();
  let m = IMF.exec(s);
  if (m !== null) {
    if (!DAYS.includes(m[1]!)) return undefined;
    return build(+m[4]!, m[3]!, +m[2]!, +m[5]!, +m[6]!, +m[7]!);
  }
  m = RFC850.exec(s);
  if (m !== null) {
    if (!LONG_DAYS.includes(m[1]!)) return undefined;
    const yy = +m[4]!;
    return build(yy < 70 ? 2000 + yy : 1900 + yy, m[3]!, +m[2]!, +m[5]!, +m[6]!, +m[7]!);
  }
  m = ASCTIME.exec(s);
  if (m !== null) {
    if (!DAYS.includes(m[1]!)) return undefined;
    return build(+m[7]!, m[2]!, +m[3]!.trim(), +m[4]!, +m[5]!, +m[6]!);
  }
  return undefined;
}

/** Formats epoch milliseconds as an IMF-fixdate (`toUTCString` already produces that form). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
