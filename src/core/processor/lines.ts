/**
 * Lines of a byte stream (a child's stdout, our stdin), without the newline. Both ends of the processor
 * protocol frame by newline; a trailing partial line is yielded at end of stream unless it is blank.
 */
export async function* linesOf(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
  buffered += decoder.decode();
  if (buffered.trim() !== "") yield buffered;
}
