"""A llama.cpp context fed one token per llama_decode, each token at the next cache slot, with the eviction of
METHOD.md §2: the oldest non-sink entry removed (llama_memory_seq_rm) and the later ones moved down by one
(llama_memory_seq_add, so llama.cpp re-rotates their keys), so every key sits at its rank in the cache.
Shared by scripts/llamacpp-reference-nll.py and scripts/llamacpp-generate.py."""
import sys

import numpy as np


class OneTokenContext:
    def __init__(self, llama_cpp, model_path, n_ctx, threads, prog):
        self.lib = llama_cpp
        self.prog = prog
        kv = llama_cpp.GGML_TYPE_F32
        self.llm = llama_cpp.Llama(model_path=model_path, n_ctx=n_ctx, n_threads=threads,
                                   n_threads_batch=threads, n_batch=1, n_ubatch=1, logits_all=False,
                                   flash_attn=False, type_k=kv, type_v=kv, swa_full=True, verbose=False)
        self.ctx = self.llm.ctx
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self.vocab))
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.batch = llama_cpp.llama_batch_init(1, 0, 1)
        self.batch.n_tokens = 1
        self.batch.n_seq_id[0] = 1
        self.batch.seq_id[0][0] = 0
        self.batch.logits[0] = 1
        self.cached = 0

    def decode(self, token):
        """The Float32 logits after feeding token at the next slot (a view, valid until the next decode)."""
        self.batch.token[0] = token
        self.batch.pos[0] = self.cached
        rc = self.lib.llama_decode(self.ctx, self.batch)
        if rc != 0:
            sys.exit(f"{self.prog}: llama_decode returned {rc} with {self.cached} entries cached")
        self.cached += 1
        return np.ctypeslib.as_array(self.lib.llama_get_logits_ith(self.ctx, 0), shape=(self.n_vocab,))

    def remove_oldest_non_sink(self, sinks):
        if not self.lib.llama_memory_seq_rm(self.memory, 0, sinks, sinks + 1):
            sys.exit(f"{self.prog}: llama_memory_seq_rm failed")
        self.lib.llama_memory_seq_add(self.memory, 0, sinks + 1, -1, -1)
        self.cached -= 1

    def evict(self, cache):
        """While the cache holds more than x+y entries (cache = (x, y); None: dense), remove the oldest non-sink."""
        while cache is not None and self.cached > cache[0] + cache[1]:
            self.remove_oldest_non_sink(cache[0])
