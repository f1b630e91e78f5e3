/**
 * File names from peers. The offered name is shown as text, as is; the name a file is saved under
 * is made safe for every common file system: no path, no control or invisible direction
 * characters, no Windows reserved names or characters, no leading dot, a bounded length, and the
 * extension kept when it is a plain one.
 */

/** Longest saved name, in UTF-8 bytes (most file systems allow 255; leave room for " (1)"). */
export const SAVE_NAME_MAX_BYTES = 200;
/** Longest extension kept apart when a name is shortened, dot included. */
const EXTENSION_MAX = 16;
/** What a name with nothing usable left becomes. */
const FALLBACK_NAME = 'file';

// C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text
// (bidi overrides and isolates, zero-width characters, the BOM): "photo\u202Egnp.exe".
const INVISIBLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
/** Path separators and the characters Windows forbids in names. */
const FORBIDDEN = /[/\\:*?"<>|]/g;
/** Windows device names, reserved with any extension ("con.txt" too). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
/**
 * Half a surrogate pair without its other half. A peer's name is any JS string, and a name with one
 * is not valid Unicode: `encodeURIComponent` throws on it (the download's Content-Disposition), so
 * each becomes U+FFFD, as a UTF-8 encoder would make it.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** An extension worth keeping: letters and digits after one dot. */
const PLAIN_EXTENSION = /\.[\p{L}\p{N}]{1,15}$/u;

const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).byteLength;

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = utf8Length(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

/** Splits off a plain extension (".jpg"), or none. */
function splitExtension(name: string): [base: string, extension: string] {
  const match = PLAIN_EXTENSION.exec(name);
  if (!match || match.index === 0 || match[0].length > EXTENSION_MAX) return [name, ''];
  return [name.slice(0, match.index), match[0]];
}

/**
 * The name to save a peer's file under (the suggested name of a save dialog or a download).
 * Never empty, never a path, never hidden; always well-formed UTF-16 (it goes into a header as UTF-8).
 */
export function safeFileName(name: string): string {
  let clean = name
    // What `String.prototype.toWellFormed` does (ES2024, past the ES2023 library this is typed with).
    .replace(LONE_SURROGATE, '\ufffd')
    .normalize('NFC')
    // Tabs and line breaks become spaces before the other controls go.
    .replace(/\s+/g, ' ')
    .replace(INVISIBLE, '')
    .replace(FORBIDDEN, '_')
    .trim();
  // Leading dots hide a file (".bashrc") or climb (".."); trailing dots and spaces are dropped by
  // Windows, which would change the extension.
  clean = clean.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  const [whole, extension] = splitExtension(clean);
  let base = whole.replace(/[.\s]+$/, '');
  if (!base) base = FALLBACK_NAME;
  if (RESERVED.test(base) || RESERVED.test(base + extension)) base = `_${base}`;
  base = cutUtf8(base, SAVE_NAME_MAX_BYTES - utf8Length(extension)).replace(/[.\s]+$/, '');
  return (base || FALLBACK_NAME) + extension;
}

/**
 * A local file's name as it goes into an offer: at most `max` UTF-16 code units, shortened in the
 * middle of the base name so the extension stays, never splitting a surrogate pair.
 */
export function offerFileName(name: string, max: number): string {
  const whole = name.trim() || FALLBACK_NAME;
  if (whole.length <= max) return whole;
  const [base, extension] = splitExtension(whole);
  let kept = base.slice(0, Math.max(1, max - extension.length));
  if (/[\ud800-\udbff]$/.test(kept)) kept = kept.slice(0, -1);
  return (kept + extension).slice(0, max);
}
