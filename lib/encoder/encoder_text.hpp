// From texts to an encoder's input: where the special tokens go around one text or a pair (the
// tokenizer's post-processor template), truncation, and right-padded batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "breadth/encoder.hpp"
#include "breadth/tokenizer.hpp"

namespace breadth::model {

/// `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` and their token type ids, as the tokenizer's
/// post-processor (TemplateProcessing, BertProcessing, RobertaProcessing) writes them.
struct SegmentTemplate {
  struct Item {
    int seq = -1;                  ///< 0 = A, 1 = B, -1 = special tokens
    std::vector<int32_t> ids;      ///< the special token's ids (seq < 0)
    int64_t type_id = 0;
  };
  std::vector<Item> single, pair;

  /// Special tokens the template adds around one text (pair = false) or a pair.
  int64_t added(bool pair) const;
  /// Appends the assembled ids and type ids.
  void assemble(const std::vector<int32_t>& a, const std::vector<int32_t>* b, std::vector<int64_t>& ids,
                std::vector<int64_t>& types) const;
};

/// BERT's template around `cls`/`sep` ids: [CLS] A [SEP] (B [SEP]), type ids 0 then 1.
SegmentTemplate bert_template(int32_t cls, int32_t sep);
/// RoBERTa's: <s> A </s> (</s> B </s>), all type ids 0.
SegmentTemplate roberta_template(int32_t cls, int32_t sep);

/// The template of the tokenizer in `dir`: tokenizer.json's post_processor when there is one, else
/// the family's default around the cls/sep tokens named in special_tokens_map.json or
/// tokenizer_config.json (or [CLS]/[SEP], <s>/</s>). Throws FormatError when the tokens are unknown.
/// `plain_default` (decoder embedders): without a post-processor nothing is added around the text.
SegmentTemplate read_segment_template(const std::string& dir, const Tokenizer& tokenizer, bool roberta_style,
                                      bool plain_default = false);

/// `tokenizers`' LongestFirst truncation of a pair to at most `budget` content tokens together.
void truncate_longest_first(std::vector<int32_t>& a, std::vector<int32_t>& b, int64_t budget);

/// One assembled row.
struct EncodedRow {
  std::vector<int64_t> ids, types;
};

/// Right-pads rows into [B, T] tensors (padding: `pad_id`, mask 0, type 0).
EncoderBatch pad_rows(const std::vector<EncodedRow>& rows, int64_t pad_id);

}  // namespace breadth::model
