/**
 * A strict reader for the XML property lists launchd takes: checks the XML is well formed
 * (one root, balanced tags, only the five predefined entities, no "--" inside comments) and
 * returns the plist as a JS value. Throws with the offset of the first fault.
 */
export function parsePlist(text: string): unknown {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`plist: ${why} at offset ${i}: ${JSON.stringify(text.slice(i, i + 40))}`);
  };
  const skipMisc = (): void => {
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))![0].length;
      i += ws;
      if (text.startsWith('<?', i)) i = text.indexOf('?>', i) + 2 || fail('unclosed <?');
      else if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) fail('unclosed comment');
        if (text.slice(i + 4, end).includes('--')) fail('"--" inside a comment');
        i = end + 3;
      } else if (text.startsWith('<!DOCTYPE', i)) i = text.indexOf('>', i) + 1 || fail('unclosed DOCTYPE');
      else return;
    }
  };
  const unescape = (s: string): string => {
    if (/[<>]/.test(s)) fail('raw < or > in text');
    return s.replace(/&([^;]*);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e] ?? fail(`unknown entity &${e};`));
  };
  const open = (): { name: string; empty: boolean } => {
    skipMisc();
    const m = /^<([A-Za-z][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/.exec(text.slice(i)) ?? fail('expected an element');
    i += m[0].length;
    return { name: m[1]!, empty: m[3] === '/' };
  };
  const close = (name: string): void => {
    skipMisc();
    if (!text.startsWith(`</${name}>`, i)) fail(`expected </${name}>`);
    i += name.length + 3;
  };
  const textUntilClose = (name: string): string => {
    const end = text.indexOf('<', i);
    const s = unescape(text.slice(i, end));
    i = end;
    close(name);
    return s;
  };
  const value = (): unknown => {
    const { name, empty } = open();
    if (name === 'true' || name === 'false') {
      if (!empty) close(name);
      return name === 'true';
    }
    if (empty) return name === 'dict' ? {} : name === 'array' ? [] : '';
    if (name === 'string') return textUntilClose(name);
    if (name === 'integer') {
      const s = textUntilClose(name);
      if (!/^-?\d+$/.test(s.trim())) fail(`bad integer ${s}`);
      return Number(s);
    }
    if (name === 'array') {
      const out: unknown[] = [];
      for (skipMisc(); !text.startsWith('</array>', i); skipMisc()) out.push(value());
      close('array');
      return out;
    }
    if (name === 'dict') {
      const out: Record<string, unknown> = {};
      for (skipMisc(); !text.startsWith('</dict>', i); skipMisc()) {
        if (open().name !== 'key') fail('expected <key>');
        const k = textUntilClose('key');
        out[k] = value();
      }
      close('dict');
      return out;
    }
    return fail(`unexpected <${name}>`);
  };
  const root = open();
  if (root.name !== 'plist') fail('root is not <plist>');
  const v = value();
  close('plist');
  skipMisc();
  if (i !== text.length) fail('content after the root element');
  return v;
}
