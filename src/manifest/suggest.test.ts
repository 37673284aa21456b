import { describe, expect, it } from 'vitest';
import { didYouMean, suggest } from './suggest.js';

describe('suggest', () => {
  it('finds near misses', () => {
    expect(suggest('delet', ['delete', 'backup'])).toBe('delete');
    expect(suggest('max-delete', ['max_delete', 'mode'])).toBe('max_delete');
    expect(suggest('Remote', ['remote', 'local'])).toBe('remote');
  });
  it('does not guess wildly', () => {
    expect(suggest('zzzzzz', ['delete', 'backup'])).toBeUndefined();
    expect(didYouMean('qq', ['delete'])).toBe('');
  });
});
