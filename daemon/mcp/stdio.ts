/** Serves one MCP client over stdin/stdout. */
export async function runStdio(_opts: { home: string }): Promise<void> {
  throw new Error('--transport stdio is not available yet');
}
