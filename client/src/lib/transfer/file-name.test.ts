import { describe, expect, it } from 'vitest';
import { offerFileName, safeFileName, SAVE_NAME_MAX_BYTES } from './file-name.js';

describe('safeFileName', () => {
  it.each([
    ['holiday.jpg', 'holiday.jpg'],
    ['Résumé final.pdf', 'Résumé final.pdf'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['..\\..\\windows\\system32\\evil.dll', '_.._windows_system32_evil.dll'],
    ['/absolute/path.txt', '_absolute_path.txt'],
    ['C:\\Users\\x.txt', 'C__Users_x.txt'],
    ['.bashrc', 'bashrc'],
    ['...', 'file'],
    ['..', 'file'],
    ['', 'file'],
    ['   ', 'file'],
    ['.jpg', 'jpg'],
    ['a\u0000b\u0007c\nd.txt', 'abc d.txt'],
    ['photo\u202egnp.exe', 'photognp.exe'],
    ['zero\u200bwidth.txt', 'zerowidth.txt'],
    ['what?<is>|this*".txt', 'what__is__this__.txt'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['Lpt1.tar.gz', '_Lpt1.tar.gz'],
    ['COM1', '_COM1'],
    ['console.txt', 'console.txt'],
    ['trailing dots...', 'trailing dots'],
    ['name.  ', 'name'],
    ['tabs\tand\u00a0spaces.md', 'tabs and spaces.md'],
  ])('%j -> %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('shortens long names to the byte limit and keeps the extension', () => {
    const saved = safeFileName(`${'é'.repeat(300)}.jpeg`);
    expect(new TextEncoder().encode(saved).byteLength).toBeLessThanOrEqual(SAVE_NAME_MAX_BYTES);
    expect(saved.endsWith('é.jpeg')).toBe(true);
    // Never half a character: a 4-byte emoji is kept whole or dropped.
    const emoji = safeFileName(`${'😀'.repeat(80)}.png`);
    expect(emoji).toMatch(/^(😀)+\.png$/u);
  });

  it('does not keep a long or odd extension apart', () => {
    const saved = safeFileName(`${'a'.repeat(250)}.${'b'.repeat(40)}`);
    expect(saved.length).toBe(SAVE_NAME_MAX_BYTES);
  });

  it('replaces half a surrogate pair, which no header or file system can take, and keeps whole pairs', () => {
    expect(safeFileName('report\ud800.pdf')).toBe('report\ufffd.pdf');
    expect(safeFileName('\udc00x\ud83d')).toBe('\ufffdx\ufffd');
    expect(safeFileName('😀\udc00😀.png')).toBe('😀\ufffd😀.png');
    // What the download worker does with the name: it must not throw.
    expect(() => encodeURIComponent(safeFileName('a\udfff\ud800.txt'))).not.toThrow();
  });

  it('is idempotent', () => {
    for (const name of ['../x', 'con.txt', ' .a. ', 'a'.repeat(500), '\u202e.exe', 'x\ud800.y']) {
      expect(safeFileName(safeFileName(name))).toBe(safeFileName(name));
    }
  });
});

describe('offerFileName', () => {
  it('keeps short names and shortens long ones with their extension', () => {
    expect(offerFileName('a.txt', 255)).toBe('a.txt');
    expect(offerFileName(`${'x'.repeat(300)}.tar`, 255)).toBe(`${'x'.repeat(251)}.tar`);
    expect(offerFileName('', 255)).toBe('file');
  });

  it('never splits a surrogate pair', () => {
    const name = offerFileName(`a${'😀'.repeat(200)}.png`, 255);
    expect(name.length).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^a(😀)+\.png$/u);
  });
});
