// The module chain (issue 8: "the module chain written in CMakeLists.txt is the true one"). The
// top-level CMakeLists.txt adds the modules under broker/ in dependency order, and
// docs/architecture.md draws the same chain. These tests read the sources: every module is in the
// list, the page names them in the same order, and no module's code (its tests and fuzzers
// aside) includes a header of a module that comes after it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
const fs::path kSource = SEKTORBRO_SOURCE_DIR;

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The modules in the order CMakeLists.txt adds them: the `foreach(module ...)` line.
std::vector<std::string> cmake_order() {
  const std::string text = read(kSource / "CMakeLists.txt");
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"(foreach\(module ([a-z ]+)\))"))) return {};
  std::istringstream words(m[1].str());
  std::vector<std::string> out;
  for (std::string w; words >> w;) out.push_back(w);
  return out;
}

// The modules in the order docs/architecture.md draws them: the code block after "## Modules".
std::vector<std::string> page_order() {
  const std::string text = read(kSource / "docs" / "architecture.md");
  const auto section = text.find("## Modules");
  const auto open = text.find("```\n", section);
  const auto close = text.find("```", open + 4);
  if (section == std::string::npos || open == std::string::npos || close == std::string::npos)
    return {};
  const std::string chain = text.substr(open + 4, close - open - 4);
  std::vector<std::string> out;
  const std::regex word(R"(\b([a-z]+)\b(?![^(]*\)))");  // names, not the words in parentheses
  for (auto it = std::sregex_iterator(chain.begin(), chain.end(), word);
       it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

TEST(ModuleLayering, EveryModuleFolderIsInTheCMakeListOnce) {
  const std::vector<std::string> order = cmake_order();
  ASSERT_FALSE(order.empty()) << "no foreach(module ...) line in CMakeLists.txt";
  std::vector<std::string> folders;
  for (const auto& entry : fs::directory_iterator(kSource / "broker"))
    if (entry.is_directory() && fs::exists(entry.path() / "CMakeLists.txt"))
      folders.push_back(entry.path().filename().string());
  std::vector<std::string> listed = order;
  std::sort(folders.begin(), folders.end());
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, folders);
  EXPECT_EQ(std::adjacent_find(listed.begin(), listed.end()), listed.end()) << "listed twice";
}

TEST(ModuleLayering, TheArchitecturePageDrawsTheSameOrder) {
  EXPECT_EQ(page_order(), cmake_order());
}

TEST(ModuleLayering, NoModuleIncludesOneThatComesAfterIt) {
  const std::vector<std::string> order = cmake_order();
  ASSERT_FALSE(order.empty());
  auto place = [&](const std::string& module) {
    return std::find(order.begin(), order.end(), module) - order.begin();
  };
  const std::regex include(R"(#include\s+"broker/([a-z]+)/)");
  int files = 0;
  for (const std::string& module : order) {
    const fs::path root = kSource / "broker" / module;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
      const std::string name = it->path().filename().string();
      if (it->is_directory() && (name == "tests" || name == "fuzz")) {
        it.disable_recursion_pending();
        continue;
      }
      const std::string ext = it->path().extension().string();
      if (!it->is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".in")) continue;
      ++files;
      const std::string text = read(it->path());
      for (auto m = std::sregex_iterator(text.begin(), text.end(), include);
           m != std::sregex_iterator(); ++m) {
        const std::string used = (*m)[1].str();
        EXPECT_LE(place(used), place(module))
            << fs::relative(it->path(), kSource).string() << " (module " << module
            << ") includes broker/" << used << "/, which comes after it";
      }
    }
  }
  EXPECT_GT(files, 100);  // the sources were found at all
}

}  // namespace
