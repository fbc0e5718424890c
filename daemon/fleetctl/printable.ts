/**
 * Terminal control characters a member could use to rewrite the user's screen: C0 controls
 * but tab and newline (a carriage return only when it does not end a line), DEL, and C1 controls
 * (U+009B is a CSI on some terminals).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /\r(?!\n)|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f\x80-\x9f]/g;

/** One control character as `cat -v` shows it (ESC as ^[, DEL as ^?, U+009B as M-^[). */
function shown(c: string): string {
  const n = c.charCodeAt(0);
  if (n === 0x7f) return '^?';
  if (n >= 0x80) return `M-${shown(String.fromCharCode(n - 0x80))}`;
  return `^${String.fromCharCode(n + 0x40)}`;
}

/**
 * `text` with its terminal control characters made visible, for what fleetctl prints around a
 * member's words (prefixed lines of several members, error messages): a compromised member must
 * not be able to move the cursor, retitle the terminal or overwrite another member's lines.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, shown);
}
