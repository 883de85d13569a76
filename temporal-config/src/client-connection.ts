import type { Interceptor, InterceptorOptions, NextCall } from '@grpc/grpc-js';
import { InterceptingCall, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import {
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';

/**
 * Opens a Temporal client connection whose close() is final.
 *
 * The SDK's retry interceptor schedules each retry with setTimeout, and Connection.close() does not
 * clear those timers: a retry that fires after close makes grpc-js throw "Channel has been shut down"
 * inside the timer, an uncaught exception that kills a gateway on shutdown (and failed unrelated test
 * files). Here a call made after close, retries included, ends with CANCELLED instead, which the
 * retry interceptor does not retry and the caller sees as a rejected promise.
 */
export async function connectTemporalClient(options: ConnectionOptions): Promise<Connection> {
  let closed = false;
  const connection = await Connection.connect({
    ...options,
    interceptors: [
      ...(options.interceptors ?? [makeGrpcRetryInterceptor(defaultGrpcRetryOptions())]),
      refuseCallsAfter(() => closed),
    ],
  });
  const close = connection.close.bind(connection);
  connection.close = async () => {
    closed = true;
    await close();
  };
  return connection;
}

/** The innermost interceptor: once `isClosed()`, hands back a call that ends at once with CANCELLED. */
function refuseCallsAfter(isClosed: () => boolean): Interceptor {
  return (options: InterceptorOptions, nextCall: NextCall) =>
    new InterceptingCall(isClosed() ? cancelledCall() : nextCall(options));
}

// grpc-js exports these shapes only through its functions' types.
type InterceptingCallInterface = ReturnType<NextCall>;
type CallListener = Parameters<InterceptingCallInterface['start']>[1];

function cancelledCall(): InterceptingCallInterface {
  return {
    start(_metadata: Metadata, listener?: CallListener) {
      // Asynchronously, like a real call: the caller finishes sending before it hears the status.
      setImmediate(() => {
        try {
          listener?.onReceiveStatus?.({
            code: GrpcStatus.CANCELLED,
            details: 'the Temporal connection was closed',
            metadata: new Metadata(),
          });
        } catch {
          // The SDK's retry interceptor (1.24) hands a final status on through the message callback
          // of the first attempt, which it only has when that attempt received a message: a call
          // whose first attempt failed (UNAVAILABLE) and whose retry lands here throws
          // "savedMessageNext is not a function". Uncaught in this timer it killed whatever test
          // file was running; the call was refused after close, which is all this can still do.
        }
      });
    },
    sendMessage: () => undefined,
    sendMessageWithContext: () => undefined,
    startRead: () => undefined,
    halfClose: () => undefined,
    cancelWithStatus: () => undefined,
    getPeer: () => '',
    getAuthContext: () => null,
  };
}
