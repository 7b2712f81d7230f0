/**
 * A response the user writes (`session.writeResponseHeader/Body` from `requestFilter`) through the
 * downstream modules, as Pingora's `Session::write_response_*` does: module header and body
 * filters, then the modules' body stream (compression) with its output paced by the client.
 * Made only when the request has modules and the user writes a response; `respondError*` bypass
 * modules, as in Pingora.
 */
import type { HttpModuleCtx, HttpServerSession } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import { BodyStreamStage, type StageOwner } from './body-stream.js';

type Write = [chunk: Buffer | undefined, endOfStream: boolean];

/** @internal */
export class ModuleResponseWriter implements StageOwner {
  private stage: BodyStreamStage | undefined;
  // Body writes made while an async module header filter runs, replayed after it.
  private held: Write[] | undefined;
  private inputPaused = false;
  private ended = false;
  private finished = false;
  private whenFinished: (() => void) | undefined;
  /** A module header filter that failed after the call returned (the response was aborted). */
  failure: unknown;

  constructor(
    private readonly down: HttpServerSession,
    private readonly mods: HttpModuleCtx,
  ) {}

  /** Filters `resp` through the modules, then writes it; an async filter delays later writes. */
  writeHeader(resp: ResponseHeader, endOfStream: boolean): void {
    const r = this.mods.responseHeaderFilter(resp, endOfStream);
    if (!(r instanceof Promise)) {
      this.headerFiltered(resp, endOfStream);
      return;
    }
    this.held = [];
    r.then(
      () => {
        this.headerFiltered(resp, endOfStream);
        const held = this.held!;
        this.held = undefined;
        for (const [chunk, eos] of held) this.writeBody(chunk, eos);
      },
      (e: unknown) => {
        this.held = undefined;
        this.failure = e;
        this.down.abort();
        this.finish();
      },
    );
  }

  private headerFiltered(resp: ResponseHeader, endOfStream: boolean): void {
    if (endOfStream) this.ended = true;
    else {
      const stream = this.mods.responseBodyStream();
      if (stream !== undefined || this.mods.hasResponseBodyFilter) resp.removeHeader('Content-Length');
      if (stream !== undefined) this.stage = new BodyStreamStage(stream, this, 'downstream modules', false);
    }
    this.down.writeResponseHeader(resp, endOfStream);
    if (this.ended) this.finish();
  }

  /** Filters a body chunk, then writes it (through the modules' stream, if any). */
  writeBody(chunk: Buffer | undefined, endOfStream: boolean): boolean {
    if (this.held !== undefined) {
      this.held.push([chunk, endOfStream]);
      return false;
    }
    if (this.ended) return false;
    let c = chunk;
    const out = this.mods.responseBodyFilter(c, endOfStream);
    if (out !== undefined) c = out ?? undefined;
    const stage = this.stage;
    if (stage === undefined) {
      if (endOfStream) {
        this.ended = true;
        this.down.writeResponseBody(c, true);
        this.finish();
        return true;
      }
      return c === undefined || this.down.writeResponseBody(c, false);
    }
    if (c !== undefined) stage.write(c);
    if (endOfStream) {
      this.ended = true;
      stage.end();
    }
    return !this.inputPaused;
  }

  /**
   * Resolves once a response the user ended has gone out through the stream; `undefined` when
   * there is nothing to wait for (already out, or never ended: the done filter then frees it).
   */
  settled(): Promise<void> | undefined {
    if (this.finished || !this.ended) return undefined;
    return new Promise<void>((resolve) => {
      this.whenFinished = resolve;
      this.down.onClientGone(() => this.finish());
    });
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.whenFinished?.();
  }

  // --- the modules' stream (StageOwner) ---

  stageData(stage: BodyStreamStage, chunk: Buffer): void {
    if (!this.down.writeResponseBody(chunk, false)) {
      stage.pauseOutput();
      this.down.onResponseDrain(() => stage.resumeOutput());
    }
  }

  stageEnd(_stage: BodyStreamStage, last: Buffer | undefined): void {
    // The stream's last output (a compressor's final block and trailer) goes out with the end.
    this.down.writeResponseBody(last, true);
    this.finish();
  }

  stageError(_stage: BodyStreamStage, error: PingoraError): void {
    this.failure = error;
    this.stage?.destroy();
    this.down.abort();
    this.finish();
  }

  pauseInput(): void {
    this.inputPaused = true;
  }

  resumeInput(): void {
    this.inputPaused = false;
  }
}
