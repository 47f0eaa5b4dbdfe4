//===- GraphBuilder.h - Model description to tfm IR -------------*- C++ -*-===//
//
// Builds the tfm-dialect graph of a model the way it is written down:
// separate QKᵀ, scale, mask, softmax and ·V ops (fusion is a pass's job).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FRONTEND_GRAPHBUILDER_H
#define TFM_FRONTEND_GRAPHBUILDER_H

#include "frontend/Config.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace mlir::tfm {

/// One argument of an entry point, in call order: a run-time input (ids,
/// lengths, encoder output) or a weight bound at load time.
struct EntryArgument {
  std::string name;
  bool isWeight = false;
  /// A run-time input the entry updates in place (a KV cache): the function
  /// returns its new value as a trailing result, tied to it.
  bool inout = false;
  /// Static shape of a weight (empty for run-time inputs), as the model
  /// description has it.
  std::vector<int64_t> shape;
  /// Set by tfmc when tfm-pack-weights has packed this weight ahead of time
  /// (`tfm.packed` on the argument): the panel width of tfm.pack_weight's
  /// layout, in which the artifact stores it. 0: stored as is.
  int64_t packedPanel = 0;
  /// Set by tfmc with packedPanel: the element type the packed weight is
  /// stored in (f32, bf16 or i8).
  mlir::Type storedElement;
  /// Set by tfmc with packedPanel: bf16 in k-pair panels
  /// ([ceil(N / P), ceil(K / 2), P, 2], tfm.pack_weight's rank-4 layout).
  bool kPairs = false;
  /// Set by tfmc for the argument tfm-pack-weights adds after an int8
  /// weight: the name of that weight, whose per-feature scales this
  /// argument takes (`shape` is then the weight's).
  std::string scalesOf;
};

struct EntryPoint {
  std::string name;
  std::vector<EntryArgument> arguments;
};

/// The graph of a model: one public function per entry point.
///
///   encode(src_ids i32[B,S], src_lengths i32[B], weights...) -> f32[B,S,d]
///   decode(tgt_ids i32[B,T], tgt_lengths i32[B],
///          [memory f32[B,S,d], src_lengths i32[B],] weights...)
///       -> f32[B,T,tgt_vocab]
///
/// and for decoding with a KV cache (caches K_i, V_i: f32[B,kv_heads,C,
/// head_dim], C the capacity; `positions` [B]: where each sequence's new tokens
/// go; `cache_lengths` [B]: the keys each sequence sees after the update):
///
///   cross_kv(memory f32[B,S,d], weights...) -> cross_k.0, cross_v.0, ...
///       (the cross-attention keys and values, f32[B,h,S,d/h], per layer)
///   prefill(tgt_ids i32[B,T], tgt_lengths i32[B], positions i32[B],
///           inout self_k.i, self_v.i, weights...) -> f32[B,1,tgt_vocab]
///       (decoder-only: a prompt, its keys and values written at `positions`,
///       which must be 0: its attention is over the prompt itself; the
///       logits of each prompt's last token, tgt_lengths[b] - 1)
///   step(tgt_ids i32[B,1], positions i32[B], cache_lengths i32[B],
///        [src_lengths i32[B], cross_k.i, cross_v.i,]
///        inout self_k.i, self_v.i, weights...) -> f32[B,1,tgt_vocab]
///       (one token per sequence, attending over its cache)
///
/// An encoder-decoder model has encode, decode, cross_kv and step; an
/// encoder-only model `encode` (with `src_types i32[B,S]` after src_lengths
/// when the config has token types; returning MLM logits [B,S,vocab] for a
/// masked-LM head) and, with a pooler,
///
///   pool(hidden f32[B,S,d], weights...) -> f32[B,d]   (tanh(dense(h[:,0])))
///
/// a decoder-only model decode, prefill and step (without memory). Weights are
/// named as in the model description, except the attention projections, which
/// are asked for split: `PREFIX.{q,k,v}_proj.{weight,bias}` (for tfm's own
/// format the rows of `PREFIX.in_proj_{weight,bias}`; splitting is done once,
/// by tfmc), and the parts that format does not have: `src_type_embed.weight`,
/// `src_embed_norm.*`, `pooler.*`, `mlm.dense.*`, `mlm.norm.*`
/// (frontend/HuggingFace.cpp maps them to a checkpoint's tensors).
struct BuiltModel {
  OwningOpRef<ModuleOp> module;
  std::vector<EntryPoint> entries;
};

/// Builds the graph of `config`. The config must have been validated.
BuiltModel buildModel(MLIRContext &context, const ::tfm::ModelConfig &config);

} // namespace mlir::tfm

#endif // TFM_FRONTEND_GRAPHBUILDER_H
