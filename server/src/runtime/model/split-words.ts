/** Splits text into groups of `wordsPerChunk` words, never inside a word, so the chunks join back exactly. */
export function splitWords(text: string, wordsPerChunk: number): string[] {
  const words = text.match(/\s*\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let index = 0; index < words.length; index += wordsPerChunk) {
    chunks.push(words.slice(index, index + wordsPerChunk).join(''));
  }
  return chunks.length === 0 && text !== '' ? [text] : chunks;
}
