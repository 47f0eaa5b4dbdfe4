//===- ModuleTest.cpp - Tests for CompiledModule --------------------------===//
//
// Loads the hand-written modules built from fake_module.c (paths passed in as
// compile definitions) and calls their entries.
//
//===----------------------------------------------------------------------===//

#include "runtime/Module.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <unistd.h>

using namespace tfm;

namespace {

static std::string message(const absl::Status &status) {
  return std::string(status.message());
}

static std::unique_ptr<CompiledModule> loadOrDie(const std::string &path) {
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(path);
  EXPECT_TRUE(module.ok()) << module.status();
  return module.ok() ? std::move(*module) : nullptr;
}

template <typename T>
static Tensor makeTensor(std::vector<int64_t> shape,
                         std::initializer_list<T> values) {
  absl::StatusOr<Tensor> tensor =
      Tensor::allocate(DTypeOf<T>::value, std::move(shape));
  EXPECT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(static_cast<size_t>(tensor->numElements()), values.size());
  T *data = tensor->template data<T>();
  for (T value : values)
    *data++ = value;
  return std::move(*tensor);
}

template <typename T> static std::vector<T> values(const Tensor &tensor) {
  const T *data = tensor.data<T>();
  return std::vector<T>(data, data + tensor.numElements());
}

static void expectError(const absl::Status &status,
                        std::initializer_list<std::string_view> parts) {
  ASSERT_FALSE(status.ok());
  for (std::string_view part : parts)
    EXPECT_NE(message(status).find(part), std::string::npos)
        << "missing '" << part << "' in: " << status.message();
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

TEST(ModuleLoadTest, MissingFile) {
  std::string path =
      absl::StrCat(::testing::TempDir(), "tfm_no_such_", getpid(), ".so");
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(path);
  expectError(module.status(),
              {path, "cannot open module", "No such file or directory"});
}

TEST(ModuleLoadTest, NotASharedObject) {
  std::string path =
      absl::StrCat(::testing::TempDir(), "tfm_text_", getpid(), ".so");
  std::ofstream(path) << "this is not an ELF file\n";
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(path);
  std::remove(path.c_str());
  expectError(module.status(), {path, "cannot load module"});
  // dlerror's text names the path once, not twice.
  std::string text = message(module.status());
  EXPECT_EQ(text.find(path, path.size()), std::string::npos) << text;
}

TEST(ModuleLoadTest, Directory) {
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(::testing::TempDir());
  expectError(module.status(), {"is a directory"});
}

TEST(ModuleLoadTest, WrongAbiVersion) {
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(TFM_FAKE_MODULE_ABI1);
  expectError(module.status(),
              {TFM_FAKE_MODULE_ABI1, "compiled for tfm ABI version 1",
               "this runtime supports version 2"});
  EXPECT_EQ(module.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ModuleLoadTest, MissingVersionSymbol) {
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(TFM_FAKE_MODULE_NOVERSION);
  expectError(module.status(),
              {TFM_FAKE_MODULE_NOVERSION, "not a tfm compiled module",
               "'tfm_abi_version'"});
}

TEST(ModuleLoadTest, MalformedManifest) {
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(TFM_FAKE_MODULE_BADMANIFEST);
  expectError(module.status(),
              {TFM_FAKE_MODULE_BADMANIFEST, "invalid manifest",
               "manifest line 2", "unknown element type 'f16'"});
}

TEST(ModuleLoadTest, MissingEntryFunction) {
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(TFM_FAKE_MODULE_NOENTRY);
  expectError(module.status(),
              {"manifest lists entry 'ghost'", "does not export "
                                               "'tfm_entry_ghost'"});
}

TEST(ModuleLoadTest, ListsEntries) {
  std::unique_ptr<CompiledModule> module = loadOrDie(TFM_FAKE_MODULE);
  ASSERT_TRUE(module);
  EXPECT_EQ(module->path(), TFM_FAKE_MODULE);
  std::vector<std::string> names;
  for (const EntrySpec &entry : module->entries())
    names.push_back(entry.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"add_one", "transpose", "stats", "twice",
                                      "echo", "answer", "liar"}));
  const EntrySpec *stats = module->findEntry("stats");
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(formatEntrySpec(*stats),
            "entry stats in i32[?,4] out i64[] out i32[4]");
  EXPECT_EQ(module->findEntry("nope"), nullptr);
}

TEST(ModuleLoadTest, RelativePathWithoutSlash) {
  // "name.so" means ./name.so, not a library-path search.
  std::string path = TFM_FAKE_MODULE;
  size_t slash = path.rfind('/');
  char *oldDir = getcwd(nullptr, 0);
  ASSERT_EQ(chdir(path.substr(0, slash).c_str()), 0);
  absl::StatusOr<std::unique_ptr<CompiledModule>> module =
      CompiledModule::load(path.substr(slash + 1));
  ASSERT_EQ(chdir(oldDir), 0);
  free(oldDir);
  ASSERT_TRUE(module.ok()) << module.status();
  EXPECT_EQ((*module)->entries().size(), 7u);
}

//===----------------------------------------------------------------------===//
// Calling
//===----------------------------------------------------------------------===//

class ModuleCallTest : public ::testing::Test {
protected:
  void SetUp() override {
    module = loadOrDie(TFM_FAKE_MODULE);
    ASSERT_TRUE(module);
  }

  absl::StatusOr<std::vector<Tensor>>
  call(std::string_view name, std::initializer_list<const Tensor *> inputs) {
    return module->call(name, std::vector<const Tensor *>(inputs));
  }

  std::unique_ptr<CompiledModule> module;
};

TEST_F(ModuleCallTest, AddOne) {
  Tensor x = makeTensor<float>({4}, {1.0f, 2.0f, -3.0f, 4.5f});
  absl::StatusOr<std::vector<Tensor>> results = call("add_one", {&x});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  const Tensor &y = (*results)[0];
  EXPECT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(y.shape(), std::vector<int64_t>{4});
  EXPECT_EQ(values<float>(y), (std::vector<float>{2.0f, 3.0f, -2.0f, 5.5f}));
  // Adopted in place: the module put the data two elements past a 64-byte
  // boundary.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(y.rawData()) % 64, 8u);
}

TEST_F(ModuleCallTest, AddOneOnEmptyInput) {
  absl::StatusOr<Tensor> x = Tensor::allocate(DType::F32, {0});
  ASSERT_TRUE(x.ok());
  absl::StatusOr<std::vector<Tensor>> results = call("add_one", {&*x});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].shape(), std::vector<int64_t>{0});
  EXPECT_NE((*results)[0].rawData(), nullptr);
}

TEST_F(ModuleCallTest, ResultsOutliveTheModule) {
  Tensor x = makeTensor<float>({2}, {10.0f, 20.0f});
  absl::StatusOr<std::vector<Tensor>> results = call("add_one", {&x});
  ASSERT_TRUE(results.ok()) << results.status();
  module.reset();
  EXPECT_EQ(values<float>((*results)[0]), (std::vector<float>{11.0f, 21.0f}));
}

TEST_F(ModuleCallTest, StridedResultIsMadeContiguous) {
  Tensor x = makeTensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  absl::StatusOr<std::vector<Tensor>> results = call("transpose", {&x});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  const Tensor &t = (*results)[0];
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(values<float>(t), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.rawData()) % Tensor::kAlignment, 0u);
}

TEST_F(ModuleCallTest, SeveralResultsOfDifferentRanks) {
  Tensor x = makeTensor<int32_t>({3, 4}, {1, 2, 3, 4,     //
                                          10, 20, 30, 40, //
                                          -100, 0, 0, 7});
  absl::StatusOr<std::vector<Tensor>> results = call("stats", {&x});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  const Tensor &total = (*results)[0];
  EXPECT_EQ(total.dtype(), DType::I64);
  EXPECT_EQ(total.rank(), 0u);
  EXPECT_EQ(values<int64_t>(total), std::vector<int64_t>{17});
  const Tensor &columns = (*results)[1];
  EXPECT_EQ(columns.dtype(), DType::I32);
  EXPECT_EQ(columns.shape(), std::vector<int64_t>{4});
  EXPECT_EQ(values<int32_t>(columns), (std::vector<int32_t>{-89, 22, 33, 51}));
}

TEST_F(ModuleCallTest, AliasedResultsAreFreedOnce) {
  Tensor x = makeTensor<float>({3}, {1.0f, -2.0f, 0.5f});
  absl::StatusOr<std::vector<Tensor>> results = call("twice", {&x});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  std::vector<float> expected = {2.0f, -4.0f, 1.0f};
  EXPECT_EQ(values<float>((*results)[0]), expected);
  EXPECT_EQ(values<float>((*results)[1]), expected);
  EXPECT_NE((*results)[0].rawData(), (*results)[1].rawData());
}

TEST_F(ModuleCallTest, ResultAliasingAnInputIsCopied) {
  Tensor x = makeTensor<float>({2}, {3.0f, 4.0f});
  {
    absl::StatusOr<std::vector<Tensor>> results = call("echo", {&x});
    ASSERT_TRUE(results.ok()) << results.status();
    ASSERT_EQ(results->size(), 1u);
    EXPECT_NE((*results)[0].rawData(), x.rawData());
    EXPECT_EQ(values<float>((*results)[0]), (std::vector<float>{3.0f, 4.0f}));
  }
  // The input survived the result's destruction.
  EXPECT_EQ(values<float>(x), (std::vector<float>{3.0f, 4.0f}));
}

TEST_F(ModuleCallTest, NoInputs) {
  absl::StatusOr<std::vector<Tensor>> results = call("answer", {});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ(values<int64_t>((*results)[0]), std::vector<int64_t>{42});
}

TEST_F(ModuleCallTest, ResultContradictingManifest) {
  Tensor x = makeTensor<float>({1}, {0.0f});
  absl::StatusOr<std::vector<Tensor>> results = call("liar", {&x});
  expectError(results.status(),
              {"entry 'liar' result 0: returned f32[3], the manifest "
               "declares f32[4]"});
}

TEST_F(ModuleCallTest, UnknownEntry) {
  absl::StatusOr<std::vector<Tensor>> results = call("nope", {});
  expectError(results.status(),
              {"no entry 'nope'", "entries: add_one, transpose"});
  EXPECT_EQ(results.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModuleCallTest, WrongInputCount) {
  Tensor x = makeTensor<float>({1}, {0.0f});
  expectError(call("add_one", {}).status(),
              {"entry 'add_one' takes 1 input, got 0"});
  expectError(call("add_one", {&x, &x}).status(),
              {"entry 'add_one' takes 1 input, got 2"});
  expectError(call("answer", {&x}).status(),
              {"entry 'answer' takes 0 inputs, got 1"});
}

TEST_F(ModuleCallTest, WrongDType) {
  Tensor x = makeTensor<int32_t>({4}, {1, 2, 3, 4});
  expectError(call("add_one", {&x}).status(),
              {"entry 'add_one' input 0: expected f32[?], got i32[4]"});
}

TEST_F(ModuleCallTest, WrongRank) {
  Tensor x = makeTensor<float>({2, 2}, {1, 2, 3, 4});
  expectError(call("add_one", {&x}).status(),
              {"entry 'add_one' input 0: expected f32[?], got f32[2,2]"});
  Tensor scalar = makeTensor<int32_t>({}, {1});
  expectError(call("stats", {&scalar}).status(),
              {"entry 'stats' input 0: expected i32[?,4], got i32[]"});
}

TEST_F(ModuleCallTest, WrongStaticDimension) {
  Tensor x = makeTensor<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  expectError(call("transpose", {&x}).status(),
              {"entry 'transpose' input 0: expected f32[2,3], got f32[3,2]"});
  Tensor y = makeTensor<int32_t>({1, 5}, {1, 2, 3, 4, 5});
  expectError(call("stats", {&y}).status(),
              {"entry 'stats' input 0: expected i32[?,4], got i32[1,5]"});
}

TEST_F(ModuleCallTest, NullOrEmptyInput) {
  expectError(call("add_one", {nullptr}).status(),
              {"entry 'add_one' input 0: no tensor given"});
  Tensor moved;
  expectError(call("add_one", {&moved}).status(),
              {"entry 'add_one' input 0: no tensor given"});
}

} // namespace
