//===- TokenizerTest.cpp - Tokenizers against transformers' ---------------===//
//
// Each case in test/tokenizers/cases (test/tokenizers/make_cases.sh) is a
// tokenizer as a checkpoint ships it and transformers' encodings of 32 test
// strings: ids with and without special tokens, tokens, decodings with
// special tokens skipped and kept (Marian: the target side too). tfm must
// give every one of them exactly.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/tokenizer/Unicode.h"
#include "support/Json.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

using namespace tfm;

namespace {

/// A case's directory: "NAME" or "NAME:json" (its tokenizer as a fast
/// tokenizer's tokenizer.json, test/tokenizers/make_json_cases.py).
std::string caseDir(const std::string &param) {
  return std::string(TFM_TOKENIZER_CASES) + "/" +
         param.substr(0, param.find(':'));
}

std::string tokenizerDir(const std::string &param) {
  bool json = param.find(":json") != std::string::npos;
  return caseDir(param) + (json ? "/tokenizer-json" : "/tokenizer");
}

/// transformers' encodings, or for tokenizer.json those of the library
/// (fast_encodings.json: the same but where it is known to differ).
std::string encodingsFile(const std::string &param) {
  return param.find(":json") != std::string::npos ? "fast_encodings.json"
                                                  : "encodings.json";
}

absl::StatusOr<std::unique_ptr<Tokenizer>> load(const std::string &param) {
  auto tokenizer = Tokenizer::load(tokenizerDir(param));
  // A tokenizer-json case must be read from its tokenizer.json (its
  // directory has no slow files).
  if (tokenizer.ok() && param.find(":json") != std::string::npos &&
      (*tokenizer)->kind() != Tokenizer::Kind::TokenizerJson)
    return absl::InternalError("not read as tokenizer.json");
  return tokenizer;
}

std::vector<int64_t> ints(const json::Value &value) {
  std::vector<int64_t> out;
  for (const json::Value &v : value.asArray())
    out.push_back(v.asInt());
  return out;
}

std::vector<std::string> strings(const json::Value &value) {
  std::vector<std::string> out;
  for (const json::Value &v : value.asArray())
    out.push_back(v.asString());
  return out;
}

class TokenizerCase : public ::testing::TestWithParam<const char *> {};

TEST_P(TokenizerCase, MatchesTransformers) {
  std::string dir = caseDir(GetParam());
  auto tokenizer = load(GetParam());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto encodings = json::parseFile(dir + "/" + encodingsFile(GetParam()));
  ASSERT_TRUE(encodings.ok()) << encodings.status();
  const json::Value *cases = encodings->find("strings");
  ASSERT_TRUE(cases && cases->isArray());
  ASSERT_EQ(cases->asArray().size(), 32u);
  bool marian = (*tokenizer)->kind() == Tokenizer::Kind::Marian;
  for (const json::Value &c : cases->asArray()) {
    std::string name = c.find("name")->asString();
    const std::string &text = c.find("text")->asString();
    SCOPED_TRACE(name);
    auto tokens = (*tokenizer)->tokenize(text);
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    std::vector<std::string> expectedTokens = strings(*c.find("tokens"));
    // "tokens" are convert_ids_to_tokens(input_ids): the special tokens
    // added around the text are in it, the tokenize() output is not.
    auto ids = (*tokenizer)->encode(text);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_EQ(*ids, ints(*c.find("input_ids")));
    auto plain = (*tokenizer)->encode(text, /*addSpecialTokens=*/false);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(*plain, ints(*c.find("input_ids_no_special")));
    // Where the text's own ids sit among those with special tokens.
    std::vector<int64_t> expectedIds = ints(*c.find("input_ids"));
    std::vector<int64_t> expectedPlain = ints(*c.find("input_ids_no_special"));
    size_t offset = 0;
    while (offset + expectedPlain.size() < expectedIds.size() &&
           !std::equal(expectedPlain.begin(), expectedPlain.end(),
                       expectedIds.begin() + offset))
      ++offset;
    ASSERT_LE(offset + expectedPlain.size(), expectedTokens.size());
    // transformers' tokens are the ids converted back: a piece outside the
    // vocabulary (Marian's vocab.json) reads as the unk token there.
    ASSERT_EQ(tokens->size(), plain->size());
    for (size_t i = 0; i < tokens->size(); ++i)
      if ((*plain)[i] == (*tokenizer)->unkId())
        (*tokens)[i] = expectedTokens[offset + i];
    EXPECT_EQ(*tokens,
              std::vector<std::string>(expectedTokens.begin() + offset,
                                       expectedTokens.begin() + offset +
                                           expectedPlain.size()));
    auto decoded = (*tokenizer)->decode(expectedIds, true);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    if (!marian) {
      EXPECT_EQ(*decoded, c.find("decoded")->asString());
      auto withSpecial =
          (*tokenizer)->decode(ints(*c.find("input_ids")), false);
      ASSERT_TRUE(withSpecial.ok());
      EXPECT_EQ(*withSpecial, c.find("decoded_with_special")->asString());
    } else {
      // Marian decodes with the target model: its "decoded" is of the source
      // ids with the target model, as transformers' decode() does.
      EXPECT_EQ(*decoded, c.find("decoded")->asString());
      auto target = (*tokenizer)->encodeTarget(text);
      ASSERT_TRUE(target.ok());
      EXPECT_EQ(*target, ints(*c.find("target_input_ids")));
      auto targetDecoded = (*tokenizer)->decode(*target, true);
      ASSERT_TRUE(targetDecoded.ok());
      EXPECT_EQ(*targetDecoded, c.find("target_decoded")->asString());
    }
  }
}

// Streaming: the pieces TextStream gives out as ids come make the text of
// all the ids, none of them ends inside a character whose bytes are still
// to come, and a text with spaces comes out before its end.
TEST_P(TokenizerCase, StreamsWhatDecodeGives) {
  std::string dir = caseDir(GetParam());
  auto tokenizer = load(GetParam());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto encodings = json::parseFile(dir + "/" + encodingsFile(GetParam()));
  ASSERT_TRUE(encodings.ok());
  int earlyTexts = 0;
  for (const json::Value &c : encodings->find("strings")->asArray()) {
    SCOPED_TRACE(c.find("name")->asString());
    std::vector<int64_t> ids = ints(*c.find("input_ids"));
    auto whole = (*tokenizer)->decode(ids);
    ASSERT_TRUE(whole.ok());
    TextStream stream(**tokenizer);
    std::string streamed;
    bool early = false;
    for (int64_t id : ids) {
      auto piece = stream.push(id);
      ASSERT_TRUE(piece.ok()) << piece.status();
      EXPECT_TRUE(unicode::isValidUtf8(*piece));
      // A U+FFFD given out must be one the whole text has at that place.
      if (piece->find("\xEF\xBF\xBD") != std::string::npos)
        EXPECT_EQ(whole->substr(streamed.size(), piece->size()), *piece);
      streamed += *piece;
      early |= !piece->empty();
    }
    auto rest = stream.finish();
    ASSERT_TRUE(rest.ok());
    streamed += *rest;
    EXPECT_EQ(streamed, *whole);
    earlyTexts += early;
  }
  // BERT cleans up spaces on decoding, which can reach back: it gives
  // everything at the end. The others stream most texts.
  if ((*tokenizer)->cleansUpSpaces())
    EXPECT_EQ(earlyTexts, 0);
  else
    EXPECT_GE(earlyTexts, 20);
}

// The same on random id sequences (any token: byte pieces cut inside a
// character, lone spaces, special tokens), as a sampling model produces.
TEST_P(TokenizerCase, StreamsRandomIds) {
  auto tokenizer = load(GetParam());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<int64_t> ids(1 + next() % 40);
    for (int64_t &id : ids)
      id = static_cast<int64_t>(next() % (*tokenizer)->size());
    // Some rounds only from a few ids (runs of spaces, bytes of one
    // character).
    if (round % 3 == 0) {
      std::vector<int64_t> few(ids.begin(),
                               ids.begin() + std::min<size_t>(3, ids.size()));
      for (int64_t &id : ids)
        id = few[next() % few.size()];
    }
    auto whole = (*tokenizer)->decode(ids);
    ASSERT_TRUE(whole.ok());
    TextStream stream(**tokenizer);
    std::string streamed;
    for (int64_t id : ids) {
      auto piece = stream.push(id);
      ASSERT_TRUE(piece.ok()) << piece.status();
      streamed += *piece;
    }
    auto rest = stream.finish();
    std::string list;
    for (int64_t id : ids)
      list += " " + std::to_string(id);
    ASSERT_TRUE(rest.ok()) << rest.status() << "; ids" << list;
    streamed += *rest;
    ASSERT_EQ(streamed, *whole) << "round " << round << "; ids" << list;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, TokenizerCase,
                         ::testing::Values("bert", "bert-cased", "gpt2",
                                           "marian", "llama", "llama-legacy",
                                           "bert:json", "bert-cased:json",
                                           "gpt2:json", "llama:json",
                                           "llama-legacy:json"),
                         [](const auto &info) {
                           std::string name = info.param;
                           for (char &c : name)
                             if (c == '-' || c == ':')
                               c = '_';
                           return name;
                         });

} // namespace
