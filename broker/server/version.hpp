// The broker's version: CMake's project(VERSION …) and the git commit the build was configured
// from (generated into the build folder from version.cpp.in, so only that one file is rebuilt
// when either changes).
#pragma once

#include <string>
#include <string_view>

namespace sektorbro {

// "0.1.0": project(VERSION …) in the top-level CMakeLists.txt.
std::string_view version();
// The short commit hash at configure time, with "-dirty" when the tree had changes then; empty
// when the source was not a git checkout.
std::string_view git_commit();
// One line: "sektorbro 0.1.0 (git 1a2b3c4)", or "sektorbro 0.1.0" without a commit.
std::string version_line(std::string_view program);

}  // namespace sektorbro
