//===- Forward.h - Forward passes over whole sequences ----------*- C++ -*-===//
//
// The encoder once, teacher-forced decoder passes, logits over prompts: the
// passes of an artifact's entries over whole sequences, in chunks.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_FORWARD_H
#define TFM_RUNTIME_FORWARD_H

#include "runtime/Artifact.h"
#include "runtime/Batch.h"
#include "runtime/BufferPool.h"

#include "absl/status/statusor.h"

#include <vector>

namespace tfm {

/// What a forward pass takes besides the source sequences.
struct ForwardInputs {
  /// Encoder-decoder: the teacher-forced decoder inputs (required).
  const Sequences *tgt = nullptr;
  /// Models with token types (BERT): one type per source token (zeros when
  /// not given).
  const Sequences *types = nullptr;
  /// Where to put the pooled output [batch, d] of a model with a pooler
  /// (BERT's tanh(dense(h[:, 0]))); null: not wanted.
  Tensor *pooled = nullptr;
  /// Where the compiled code's buffers come from: a pool kept across calls
  /// serves the same sizes again from the second call on (no fresh pages to
  /// fault in); it must outlive the results. Null: the system.
  BufferPool *pool = nullptr;
};

/// The forward pass over whole sequences, in the layout of DESIGN.md:
/// encoder-decoder: teacher-forced logits [batch, tgt_len, tgt_vocab];
/// encoder: final hidden states [batch, src_len, d] (masked-LM logits
/// [batch, src_len, vocab] for a model with that head); decoder: logits over
/// the prompts `src` [batch, src_len, tgt_vocab]. Positions past a
/// sequence's length are zero.
absl::StatusOr<Tensor> forward(const Artifact &artifact, const Sequences &src,
                               const ForwardInputs &inputs = {});

/// The one result of an entry call (an error if it returned more).
absl::StatusOr<Tensor> singleResult(absl::StatusOr<std::vector<Tensor>> r);

/// Runs the `encode` entry on `src`; `types` (padded like `src`) where the
/// model takes token types, zeros when not given.
absl::StatusOr<Tensor> runEncoder(const Artifact &artifact,
                                  const PaddedBatch &src,
                                  const Tensor *types = nullptr);

} // namespace tfm

#endif // TFM_RUNTIME_FORWARD_H
