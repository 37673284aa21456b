// A cron expression as systemd OnCalendar= lines. Fields are expanded into explicit lists, which
// systemd always accepts; cron ORs day-of-month with day-of-week when both are given (neither field
// starting with *: `*/2` counts as not given, as crontab(5) says), systemd ANDs them, so that case
// becomes two lines. https://www.freedesktop.org/software/systemd/man/systemd.time.html
const SHORTHAND: Record<string, string> = {
  '@hourly': 'hourly', '@daily': 'daily', '@midnight': 'daily', '@weekly': 'weekly', '@monthly': 'monthly', '@yearly': 'yearly', '@annually': 'yearly',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const SYSTEMD_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function value(token: string, names?: readonly string[], offset = 0): number {
  const i = names?.indexOf(token.toLowerCase()) ?? -1;
  return i >= 0 ? i + offset : Number(token);
}

/** '*' for an unrestricted field, else the sorted values it allows. */
export function expandField(field: string, min: number, max: number, names?: readonly string[], offset = 0): '*' | number[] {
  if (field === '*') return '*';
  const out = new Set<number>();
  for (const item of field.split(',')) {
    const [range, stepText] = item.split('/') as [string, string | undefined];
    const step = stepText ? Number(stepText) : 1;
    let lo = min;
    let hi = max;
    if (range !== '*') {
      const [a, b] = range.split('-') as [string, string | undefined];
      lo = value(a, names, offset);
      hi = b !== undefined ? value(b, names, offset) : stepText ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

const two = (n: number): string => String(n).padStart(2, '0');
const list = (f: '*' | number[], fmt = (n: number) => String(n)): string => (f === '*' ? '*' : f.map(fmt).join(','));

/** OnCalendar= values for a five-field cron expression (or an @shorthand); `@reboot` gives none. */
export function onCalendar(expression: string): string[] {
  const text = expression.trim();
  if (text === '@reboot') return [];
  if (SHORTHAND[text]) return [SHORTHAND[text] as string];
  const [m, h, dom, mon, dow] = text.split(/\s+/) as [string, string, string, string, string];
  const minutes = expandField(m, 0, 59);
  const hours = expandField(h, 0, 23);
  const days = expandField(dom, 1, 31);
  const months = expandField(mon, 1, 12, MONTHS, 1);
  const weekdays = expandField(dow, 0, 7, DAYS);
  const time = `${list(hours, two)}:${list(minutes, two)}:00`;
  const date = (d: '*' | number[]): string => `*-${list(months, two)}-${list(d, two)}`;
  const wd = weekdays === '*' ? '' : `${[...new Set(weekdays.map((d) => SYSTEMD_DAYS[d % 7] as string))].join(',')} `;
  if (days !== '*' && weekdays !== '*' && !dom.startsWith('*') && !dow.startsWith('*')) return [`${date(days)} ${time}`, `${wd}${date('*')} ${time}`];
  return [`${wd}${date(days)} ${time}`];
}
