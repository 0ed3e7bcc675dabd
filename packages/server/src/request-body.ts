import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';

type NodeRequest = IncomingMessage | Http2ServerRequest;

const BODY = Symbol('unary request body');
type Carrier = NodeRequest & { [BODY]: UnaryRequestBody };

// Module-level listeners, shared by every request: each is one function that V8 optimises once.
function onData(this: Carrier, chunk: Uint8Array) {
  this[BODY].arrived(chunk);
}
function onEnd(this: Carrier) {
  this[BODY].finished(undefined);
}
function onError(this: Carrier, error: unknown) {
  this[BODY].finished(error);
}
function onClose(this: Carrier) {
  this[BODY].closed();
}

/**
 * The body of a unary request, chunk by chunk as it arrives, for Connect's handler to read in
 * full. Connect's Node adapter hands a handler the body through Node's stream iterator wrapped in
 * an async generator, which its reader iterates once more: several promises and closures per
 * HTTP/2 frame, and since the closures are new on every call, V8 optimises the same iterator code
 * again for almost every large request. Here one object per request, whose methods and listeners
 * are shared by all requests, holds the chunks until the reader takes them.
 *
 * Streaming calls keep Connect's own body: they are read message by message while they arrive.
 */
class UnaryRequestBody implements AsyncIterableIterator<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private taken = 0;
  private done = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(private readonly request: Carrier) {
    request[BODY] = this;
    request.on('data', onData);
    request.once('end', onEnd);
    // Not once: a stream that errs twice must not find itself without a listener.
    request.on('error', onError);
    request.once('close', onClose);
  }

  arrived(chunk: Uint8Array) {
    this.chunks.push(chunk);
    this.wakeReader();
  }

  finished(error: unknown) {
    if (this.done) return;
    this.done = true;
    this.failure = error;
    this.detach();
    this.wakeReader();
  }

  /** Every request closes; one that closes before its end was reset or abandoned mid-upload. */
  closed() {
    if (!this.done) this.finished(new ConnectError('the caller closed the request before sending all of it', Code.Aborted));
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      if (this.taken < this.chunks.length) {
        const chunk = this.chunks[this.taken];
        // Released as soon as it is handed over: the reader keeps what it needs.
        this.chunks[this.taken++] = EMPTY;
        return { value: chunk, done: false };
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.done) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /**
   * The reader stopped early (the message is over the size limit, or it failed): nothing more is
   * buffered, and the rest of the upload is cut off, as Connect's own body reader does.
   */
  async return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.done) {
      this.done = true;
      this.detach();
      this.request.destroy();
    }
    this.chunks.length = 0;
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private wakeReader() {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Stops buffering. The other listeners stay: they ignore what comes after the end. */
  private detach() {
    this.request.off('data', onData);
  }
}

const EMPTY = new Uint8Array(0);

/** The body of a unary request as it arrives (see UnaryRequestBody). */
export function unaryRequestBody(request: NodeRequest): AsyncIterable<Uint8Array> {
  return new UnaryRequestBody(request as Carrier);
}
