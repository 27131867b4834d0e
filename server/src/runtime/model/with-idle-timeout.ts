import type { LanguageModelV3, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { wrapLanguageModel } from 'ai';

/** A model stream that went silent: no response, or no part, for `idleMs`. */
export class ModelIdleTimeoutError extends Error {
  override name = 'ModelIdleTimeoutError';
  constructor(readonly idleMs: number) {
    super(`The model sent nothing for ${idleMs} ms`);
  }
}

/**
 * Wraps a model so a stream call fails with ModelIdleTimeoutError when the provider sends nothing (no response
 * headers, or no further part) for `idleMs`; the HTTP request is aborted with it. 0 turns the timeout off.
 * Without it a silent provider holds the turn until the HTTP client's own 5-minute body timeout, per attempt.
 */
export function withIdleTimeout(model: LanguageModelV3, idleMs: number): LanguageModelV3 {
  if (idleMs <= 0) return model;
  return wrapLanguageModel({
    model,
    middleware: {
      specificationVersion: 'v3',
      wrapStream: async ({ params }) => {
        const controller = new AbortController();
        const outer = params.abortSignal;
        const onAbort = () => controller.abort(outer?.reason);
        if (outer?.aborted) onAbort();
        else outer?.addEventListener('abort', onAbort, { once: true });
        let timer: NodeJS.Timeout | undefined;
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => controller.abort(new ModelIdleTimeoutError(idleMs)), idleMs);
          timer.unref();
        };
        const disarm = () => {
          clearTimeout(timer);
          outer?.removeEventListener('abort', onAbort);
        };
        // Whatever the abort surfaced as (an AbortError, a "terminated" body), a silence is reported as such.
        const idleOr = (error: unknown) => (controller.signal.reason instanceof ModelIdleTimeoutError ? controller.signal.reason : error);
        arm();
        let result: Awaited<ReturnType<LanguageModelV3['doStream']>>;
        try {
          result = await model.doStream({ ...params, abortSignal: controller.signal });
        } catch (error) {
          disarm();
          throw idleOr(error);
        }
        const reader = result.stream.getReader();
        const stream = new ReadableStream<LanguageModelV3StreamPart>({
          async pull(target) {
            try {
              const next = await reader.read();
              if (next.done) {
                disarm();
                target.close();
                return;
              }
              arm();
              target.enqueue(next.value);
            } catch (error) {
              disarm();
              target.error(idleOr(error));
            }
          },
          cancel(reason) {
            disarm();
            return reader.cancel(reason);
          },
        });
        return { ...result, stream };
      },
    },
  });
}
