import type { Command } from '../adapters/types.js';
import { isSecretName, MASK, type Redactor } from './redact.js';

/** POSIX-shell quoting, for showing a command a person can paste. Never used to run anything. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(command: Command, redact: Redactor): string {
  const env = Object.entries(command.env ?? {}).map(([k, v]) => `${k}=${isSecretName(k) ? MASK : shellQuote(v)}`);
  // A file list on standard input is shown by its size, not its content (it can hold a million paths).
  const input = command.input === undefined ? [] : [`< ${command.inputNote ?? `(${command.input.split(command.input.includes('\0') ? '\0' : '\n').length - 1} paths)`}`];
  return redact([...env, command.tool, ...command.args.map(shellQuote), ...input].join(' '));
}
