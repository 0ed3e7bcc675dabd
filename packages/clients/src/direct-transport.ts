import { create, isMessage, type DescMessage, type DescMethodStreaming, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextValues,
  type ConnectRouter,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type StreamResponse,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import { createUniversalHandlerClient, runUnaryCall, type UniversalHandler } from '@connectrpc/connect/protocol';
import { createTransport } from '@connectrpc/connect/protocol-connect';
import { peerKey, type PeerContext } from '@c2pa-mesh/server';

type AnyImpl = Partial<ServiceImpl<any>>;
type UnaryFn = (req: UnaryRequest) => Promise<UnaryResponse>;

/** The same composition as Connect's own (first interceptor outermost); not exported by it. */
function applyInterceptors<T>(next: T, interceptors: readonly Interceptor[]): T {
  return interceptors.reduceRight((inner, interceptor) => interceptor(inner as never) as T, next);
}

/**
 * The service implementations the routes register, by service type name: read once by running
 * the routes against a router that only records what it is given.
 */
function recordImplementations(routes: (router: ConnectRouter) => void): Map<string, AnyImpl> {
  const implementations = new Map<string, AnyImpl>();
  const recorder = {
    handlers: [],
    service(service: { typeName: string }, implementation: AnyImpl) {
      implementations.set(service.typeName, implementation);
      return recorder;
    },
    rpc() {
      throw new Error('in-process calls reach services registered with router.service only');
    },
  };
  routes(recorder as unknown as ConnectRouter);
  return implementations;
}

/**
 * Transports into the services of this process, one per caller (its peer context: client IP,
 * identity set by construction, request id). A unary call is a function call: the request
 * message goes to the service implementation as it is — no protobuf encoding, no HTTP framing,
 * no router per call — through the same server interceptors as a call from the network
 * (authentication, scopes, admission, audit, error mapping), so identity and scopes are checked
 * once, as values. Streaming calls go through one Connect router built on first use (the only
 * streaming RPCs are the clients' uploads, never a hop between services).
 *
 * The message is shared, not copied: a service must not change a request it was given (none
 * does; the engine copies an asset it is not allowed to move).
 */
export function createDirectTransportFactory(
  routes: (router: ConnectRouter) => void,
  serverInterceptors: Interceptor[],
  clientInterceptors: Interceptor[] = [],
): (peer: PeerContext) => Transport {
  let implementations: Map<string, AnyImpl> | undefined;
  let serverChain: UnaryFn | undefined;
  let router: ConnectRouter | undefined;

  const invoke: UnaryFn = async (req) => {
    implementations ??= recordImplementations(routes);
    const method = req.method;
    const implementation = implementations.get(method.parent.typeName)?.[method.localName] as
      | ((message: unknown, context: unknown) => Promise<MessageInitShape<DescMessage>> | MessageInitShape<DescMessage>)
      | undefined;
    // Connect's createHandlerContext would link two more abort controllers to the request's
    // signal, which the handler's signal only mirrored: the handler gets the request's signal.
    const context: HandlerContext = {
      service: method.parent,
      method,
      protocolName: 'in-process',
      requestMethod: req.requestMethod,
      url: req.url,
      signal: req.signal,
      timeoutMs: () => undefined,
      requestHeader: req.header,
      responseHeader: new Headers(),
      responseTrailer: new Headers(),
      values: req.contextValues,
    };
    if (!implementation) {
      throw new ConnectError(`${method.parent.typeName}.${method.name} is not implemented`, Code.Unimplemented);
    }
    const output = await implementation.call(implementations.get(method.parent.typeName), req.message, context);
    const message = isMessage(output, method.output) ? output : create(method.output, output as MessageInitShape<DescMessage>);
    return { stream: false, service: method.parent, method, header: context.responseHeader, trailer: context.responseTrailer, message } as UnaryResponse;
  };

  /** Streams: a Connect router into the same routes, the peer context attached to each request. */
  function streamingTransport(peer: PeerContext): Transport {
    router ??= (() => {
      const built = createConnectRouter({ interceptors: serverInterceptors, connect: true });
      routes(built);
      return built;
    })();
    const handlers = router.handlers.map((handler): UniversalHandler => {
      const withPeer = (req: Parameters<UniversalHandler>[0]) => {
        const contextValues = createContextValues();
        contextValues.set(peerKey, peer);
        return handler({ ...req, contextValues });
      };
      return Object.assign(withPeer, {
        protocolNames: handler.protocolNames,
        service: handler.service,
        method: handler.method,
        requestPath: handler.requestPath,
        allowedMethods: handler.allowedMethods,
        supportedContentType: handler.supportedContentType,
      });
    });
    return createTransport({
      httpClient: createUniversalHandlerClient(handlers),
      baseUrl: 'https://in-process',
      useBinaryFormat: true,
      interceptors: clientInterceptors,
      acceptCompression: [],
      sendCompression: null,
      compressMinBytes: Number.MAX_SAFE_INTEGER,
      readMaxBytes: Number.MAX_SAFE_INTEGER,
      writeMaxBytes: Number.MAX_SAFE_INTEGER,
    });
  }

  return (peer) => {
    let streams: Transport | undefined;
    return {
      unary<I extends DescMessage, O extends DescMessage>(
        method: DescMethodUnary<I, O>,
        signal: AbortSignal | undefined,
        timeoutMs: number | undefined,
        header: ConstructorParameters<typeof Headers>[0] | undefined,
        input: MessageInitShape<I>,
        contextValues?: ContextValues,
      ): Promise<UnaryResponse<I, O>> {
        const req = {
          stream: false as const,
          service: method.parent,
          method,
          requestMethod: 'POST',
          url: `https://in-process/${method.parent.typeName}/${method.name}`,
          header: new Headers(header),
          contextValues: contextValues ?? createContextValues(),
        };
        // The server's side of the call: its own context values (the peer), its interceptors.
        const next = (request: UnaryRequest<I, O>) => {
          serverChain ??= applyInterceptors(invoke, serverInterceptors);
          const values = createContextValues();
          values.set(peerKey, peer);
          return serverChain({ ...request, contextValues: values } as UnaryRequest) as Promise<UnaryResponse<I, O>>;
        };
        if (timeoutMs !== undefined) {
          return runUnaryCall<I, O>({ interceptors: clientInterceptors, signal, timeoutMs, req: { ...req, message: input as MessageShape<I> }, next });
        }
        // Without a deadline, a function call has nothing to stop or release when it ends: the
        // caller's signal as it is (or one of its own that nothing aborts), instead of Connect's
        // two abort controllers per call linked to it and aborted at the end (a DOMException
        // and an abort event, for every hop). Errors are Connect's, as runUnaryCall makes them.
        const callSignal = signal ?? new AbortController().signal;
        const message = (isMessage(input, method.input) ? input : create(method.input, input)) as MessageShape<I>;
        return applyInterceptors(next, clientInterceptors)({ ...req, message, signal: callSignal }).catch((reason: unknown) => {
          throw callSignal.aborted ? ConnectError.from(callSignal.reason ?? reason, Code.Canceled) : ConnectError.from(reason);
        });
      },
      stream<I extends DescMessage, O extends DescMessage>(
        method: DescMethodStreaming<I, O>,
        signal: AbortSignal | undefined,
        timeoutMs: number | undefined,
        header: ConstructorParameters<typeof Headers>[0] | undefined,
        input: AsyncIterable<MessageInitShape<I>>,
        contextValues?: ContextValues,
      ): Promise<StreamResponse<I, O>> {
        streams ??= streamingTransport(peer);
        return streams.stream(method, signal, timeoutMs, header, input, contextValues);
      },
    };
  };
}
