import WebSocket from 'ws';
import { createGatewayAuth } from '@vansales/connector-agent';
import { generateAgentKeyPair, PROTOCOL_VERSION } from '@vansales/protocol';

/**
 * A light agent: the real protocol (challenge-signed connect, hello, heartbeat pongs, task results)
 * on one WebSocket, without the agent's process, databases or Temporal. It answers `agent.ping` tasks
 * with its connector id after `answerDelayMs` (so tasks are in flight when something dies), and
 * reconnects on its own after any close, with the real agent's backoff shape (doubling, jittered).
 */
export class SimulatedAgent {
  private ws?: WebSocket;
  private stopped = false;
  private readonly auth;
  /** Welcome times, and when each session was lost: reconnection = next welcome - loss. */
  readonly welcomes: number[] = [];
  readonly losses: number[] = [];
  tasksAnswered = 0;

  constructor(
    readonly connectorId: string,
    apiKey: string,
    private readonly url: string,
    private readonly options: { answerDelayMs: number; initialDelayMs: number; maxDelayMs: number },
  ) {
    this.auth = createGatewayAuth({ gatewayUrl: url, apiKey, identityKey: generateAgentKeyPair().privateKeyPem });
  }

  get online(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.welcomes.length > this.losses.length;
  }

  /** Connects until welcomed (retrying like after a loss); resolves at the first welcome. */
  start(): Promise<void> {
    return new Promise((resolve) => void this.connectLoop(0, resolve));
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  private async connectLoop(attempt: number, welcomed?: () => void): Promise<void> {
    if (this.stopped) return;
    try {
      await this.open(welcomed);
    } catch {
      const delay = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** attempt);
      setTimeout(() => void this.connectLoop(attempt + 1, welcomed), delay / 2 + Math.random() * (delay / 2));
    }
  }

  /** One connection: resolves once welcomed, rejects when it closes first; a later close reconnects. */
  private async open(welcomed?: () => void): Promise<void> {
    const headers = await this.auth.connectHeaders();
    const ws = new WebSocket(this.url, { headers });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      let inSession = false;
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            type: 'hello',
            protocolVersion: PROTOCOL_VERSION,
            agentVersion: 'simulated',
            machineId: `sim-${this.connectorId}`,
            capabilities: ['agent.ping'],
            concurrency: 4,
            databases: [],
          }),
        ),
      );
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; taskId?: string; nonce?: string };
        if (frame.type === 'welcome') {
          inSession = true;
          this.welcomes.push(Date.now());
          welcomed?.();
          resolve();
        } else if (frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong', nonce: frame.nonce }));
        else if (frame.type === 'task')
          setTimeout(() => {
            if (ws.readyState !== WebSocket.OPEN) return;
            ws.send(JSON.stringify({ type: 'result', taskId: frame.taskId, output: { from: this.connectorId } }));
            this.tasksAnswered++;
          }, this.options.answerDelayMs);
      });
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (!inSession) return reject(new Error('closed before welcome'));
        this.losses.push(Date.now());
        if (!this.stopped) void this.connectLoop(0);
      });
    });
  }
}
