import { describe, expect, it } from 'vitest';
import { isNotice, noticeIntervalMs, noticeUrl } from './notice.js';

describe('termination notices', () => {
  it('AWS: 404 until a notice, then 200 with a body; GCP: "FALSE" until preempted, then "TRUE"', () => {
    expect(isNotice(404, '<html>Not Found</html>')).toBe(false);
    expect(isNotice(200, '{"action":"terminate","time":"2026-12-04T22:00:00Z"}')).toBe(true);
    expect(isNotice(200, 'FALSE\n')).toBe(false);
    expect(isNotice(200, 'TRUE')).toBe(true);
    expect(isNotice(200, '  ')).toBe(false);
    expect(isNotice(401, '')).toBe(false);
  });
  it('takes only http(s) URLs, and an interval from the environment (else 5 s)', () => {
    expect(noticeUrl('http://169.254.169.254/latest/meta-data/spot/instance-action').hostname).toBe('169.254.169.254');
    expect(() => noticeUrl('ftp://x/y')).toThrow(/needs an http\(s\) URL/);
    expect(() => noticeUrl('not a url')).toThrow(/needs an http\(s\) URL/);
    expect(noticeIntervalMs({})).toBe(5000);
    expect(noticeIntervalMs({ LABSYNC_NOTICE_INTERVAL_MS: '100' })).toBe(100);
    expect(noticeIntervalMs({ LABSYNC_NOTICE_INTERVAL_MS: 'soon' })).toBe(5000);
  });
});
