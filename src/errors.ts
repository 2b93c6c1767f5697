/** The short cause of an I/O error for logs and answers: its code (ECONNREFUSED, ...) if it has one. */
export function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code ?? e.message ?? String(err);
}
