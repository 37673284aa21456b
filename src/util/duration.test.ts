import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, parseDuration, shortDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads the units the manifest allows', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('7d')).toBe(604_800_000);
  });
  it('rejects anything else', () => {
    for (const bad of ['', '10', '5 minutes', '-1s', 'h']) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('shortDuration', () => {
  it('says a duration as the manifest would', () => {
    expect([120_000, 3000, 90_000, 7_200_000, 1500].map(shortDuration)).toEqual(['2m', '3s', '90s', '2h', '1500ms']);
  });
});

describe('format', () => {
  it('formats durations and sizes for humans', () => {
    expect(formatDuration(420)).toBe('420ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
  });
});
