// Five-field cron expressions as crontab(5) reads them, plus the @-shorthands.
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;
const SHORTHANDS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@reboot']);

/** Undefined when valid, else what is wrong. */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (/[\r\n\0]/.test(text)) return 'a cron expression is one line: this one holds a line break';
  if (SHORTHANDS.has(text)) return undefined;
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return `a cron expression has 5 fields (minute hour day month weekday), got ${parts.length}`;
  for (const [i, field] of FIELDS.entries()) {
    const part = parts[i] as string;
    const value = (token: string): number | undefined => {
      const named = 'names' in field ? field.names.indexOf(token.toLowerCase() as never) : -1;
      if (named >= 0) return named + (field.name === 'month' ? 1 : 0);
      return /^\d+$/.test(token) ? Number(token) : undefined;
    };
    for (const item of part.split(',')) {
      const m = /^(\*|([^-/]+)(?:-([^/]+))?)(?:\/(\d+))?$/.exec(item);
      if (!m) return `${field.name} '${part}' is not a valid cron field`;
      if (m[4] !== undefined && Number(m[4]) === 0) return `${field.name} '${part}': a step must be at least 1`;
      if (m[1] === '*') continue;
      for (const token of [m[2], m[3]]) {
        if (token === undefined) continue;
        const v = value(token);
        if (v === undefined || v < field.min || v > field.max) return `${field.name} '${token}' is out of range ${field.min}-${field.max}`;
      }
    }
  }
  return undefined;
}
