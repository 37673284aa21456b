import { describe, expect, it } from 'vitest';
import { LookGate } from './watch-follow.js';

describe('LookGate', () => {
  it('lets two in at once and the others in the order they came, each when a place is left', async () => {
    const gate = new LookGate(2);
    const order: string[] = [];
    const enter = (name: string): Promise<void> => gate.enter().then(() => void order.push(name));
    await Promise.all([enter('a'), enter('b')]);
    const later = [enter('c'), enter('d'), enter('e')];
    await new Promise((r) => setTimeout(r, 10));
    // Two hold places (two looks waiting on a dead folder): nobody else got in.
    expect(order).toEqual(['a', 'b']);
    gate.leave();
    await later[0];
    expect(order).toEqual(['a', 'b', 'c']);
    gate.leave();
    gate.leave();
    await Promise.all(later);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    // Everyone left: two may enter at once again, without waiting.
    gate.leave();
    gate.leave();
    await Promise.all([enter('f'), enter('g')]);
    expect(order.slice(-2)).toEqual(['f', 'g']);
  });
});
