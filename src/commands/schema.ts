import { z } from 'zod';
import type { ExitCode } from '../errors.js';
import { schemas } from '../manifest/schema.js';

export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(schemas().manifestSchema, { io: 'input' }),
    $id: 'https://labsync.dev/schema/labsync.v1.json',
    title: 'labsync manifest (labsync.yaml), version 1',
  };
}

export async function schemaCommand(): Promise<ExitCode> {
  process.stdout.write(`${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
  return 0;
}
