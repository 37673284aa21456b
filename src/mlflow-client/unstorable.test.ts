import { describe, expect, it } from 'vitest';
import { refuseUnstorable } from './transfer.js';

describe('refuseUnstorable (names MLflow\'s artifact proxy cannot keep)', () => {
  it('takes ordinary names, spaces, unicode and a lone percent sign', () => {
    expect(() => refuseUnstorable(['a b.txt', 'données/ü.bin', '100%.txt', 'x%2.txt', '-dash'])).not.toThrow();
  });
  it('refuses %XX escapes, # and control characters, naming at most three', () => {
    expect(() => refuseUnstorable(['ok', 'a%20b'])).toThrow(/cannot store a file named "a%20b"/);
    expect(() => refuseUnstorable(['c#1'])).toThrow(/"c#1"/);
    expect(() => refuseUnstorable(['new\nline', 'tab\t', 'a%2F', 'b%41'])).toThrow(/4 files named "new\\nline", "tab\\t", "a%2F", …/);
  });
});
