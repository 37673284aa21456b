// A reader that goes away (`labsync sums … | head`) closes our stdout. Output after that is dropped
// quietly, instead of crashing with EPIPE and a stack trace. The run itself goes on and keeps its exit
// code: a sync stopped half-way because nobody read its report would be worse than a finished one.
const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

export function dropOutputWhenReaderGoes(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (!GONE.has(error.code ?? '')) throw error;
    stream.destroy();
  });
}
