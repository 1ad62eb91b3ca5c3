/**
 * Our kernels on tfjs-backend-wasm's own heap: the hand-written wasm SIMD modules (kernels/*.wat)
 * import that memory, and the BLAS and block-copy kernels view it from JavaScript, so all of them
 * read and write tensors in place. One module instance per (module, heap): every worker thread has
 * its own tfjs module and memory.
 */
export interface WasmKernelBackend {
  /** The heap views: read them after allocating, an allocation may grow (and replace) the buffer. */
  wasm: { asm: { memory: WebAssembly.Memory }; HEAPF32: Float32Array; HEAP32: Int32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): { dataId: object; shape: number[]; dtype: string };
}

const compiled = new Map<string, WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, Map<string, WebAssembly.Exports>>();

/** The exports of the kernel module `base64`, instantiated on `backend`'s heap. */
export function kernelExports(backend: WasmKernelBackend, base64: string): WebAssembly.Exports {
  const memory = backend.wasm.asm.memory;
  let byModule = instances.get(memory);
  if (!byModule) instances.set(memory, (byModule = new Map()));
  let exports = byModule.get(base64);
  if (!exports) {
    let module = compiled.get(base64);
    if (!module) compiled.set(base64, (module = new WebAssembly.Module(Buffer.from(base64, "base64"))));
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    byModule.set(base64, exports);
  }
  return exports;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmKernelBackend, t: { dataId: object }): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
