// GBK encoding for tests, as Chinese Excel writes CSV. Node can decode GBK
// (TextDecoder, through its ICU) but not encode it, so the reverse table is
// built once by decoding every two-byte GBK code.

const table = new Map();
const dec = new TextDecoder('gbk');
for (let hi = 0x81; hi <= 0xfe; hi++) {
  for (let lo = 0x40; lo <= 0xfe; lo++) {
    if (lo === 0x7f) continue;
    const ch = dec.decode(Uint8Array.of(hi, lo));
    if (ch.length === 1 && ch !== '\ufffd' && !table.has(ch)) table.set(ch, [hi, lo]);
  }
}

export default {
  /** The GBK bytes of text; throws on a character GBK cannot hold. */
  encode(text) {
    const out = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0);
      if (cp < 0x80) { out.push(cp); continue; }
      const b = table.get(ch);
      if (!b) throw new Error(`GBK has no ${ch}`);
      out.push(...b);
    }
    return Buffer.from(out);
  },
};
