import { describe, expect, it } from 'vitest';
import { fileLines, fileListsOf, safeName } from './file-list.js';

describe('fileLines', () => {
  it('splits transfers into sends and replacements, and lists deletions last', () => {
    const lists = fileListsOf({ transfer: ['new.csv', 'old.csv'], replace: ['old.csv'], delete: ['gone.csv'] });
    expect(fileLines(lists).map((l) => l.text)).toEqual(['  send     new.csv', '  replace  old.csv', '  delete   gone.csv']);
    expect(fileLines(lists).map((l) => l.verb)).toEqual(['send', 'replace', 'delete']);
  });
  it('sorts each list by name and cuts it after the limit with "… and N more", and lists all without one', () => {
    const send = Array.from({ length: 23 }, (_, i) => `f${String(22 - i).padStart(2, '0')}`);
    const cut = fileLines({ send, replace: [], delete: ['x'] }, 20).map((l) => l.text);
    expect(cut).toHaveLength(22);
    expect(cut[0]).toBe('  send     f00');
    expect(cut[19]).toBe('  send     f19');
    expect(cut[20]).toBe('  … and 3 more to send');
    expect(cut[21]).toBe('  delete   x');
    expect(fileLines({ send, replace: [], delete: [] }, Infinity)).toHaveLength(23);
  });
  it('where the tool cannot tell replacements, every transfer is a send', () => {
    expect(fileListsOf({ transfer: ['a'], delete: [] })).toEqual({ send: ['a'], replace: [], delete: [] });
  });
});

describe('safeName', () => {
  it('leaves ordinary names alone, backslashes included', () => {
    expect(safeName('with space/ü.csv')).toBe('with space/ü.csv');
    expect(safeName('a\\nb')).toBe('a\\nb');
  });
  it('marks and escapes a name holding a control character, so it cannot forge a line or a colour', () => {
    expect(safeName('a\nb')).toBe('\\a\\nb');
    expect(safeName('x\\y\r\t\u001b[31m\u009b')).toBe('\\x\\\\y\\r\\t\\x1b[31m\\x9b');
  });
});
