#include "broker/filedrop/inbox_watcher.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "broker/filedrop/tests/temp_dir.hpp"

namespace sektorbro {
namespace {

using testing::list_names;
using testing::read_text;
using testing::TempDir;
using testing::write_text;

constexpr std::chrono::milliseconds kWait{10'000};  // bound for work of milliseconds

// The broker's side in these tests: records what it is handed and how each file settles.
// By default it answers at once with 200 and a receipt naming the content; `answer_with`
// changes the answer for content containing a marker; `hold` keeps answers for the test to
// give (or drop).
class Broker {
 public:
  InboxHandler handler() {
    return [this](std::string bytes, FileAnswerFn answer) {
      std::unique_lock lock(mu_);
      taken_.push_back(bytes);
      cv_.notify_all();
      if (hold_) {
        held_.push_back(std::move(answer));
        return;
      }
      FileAnswer a{200, "<Receipt>" + bytes + "</Receipt>"};
      for (auto& [marker, planned] : plans_) {
        if (bytes.find(marker) == std::string::npos) continue;
        a = planned.front();
        if (planned.size() > 1) planned.pop_front();
      }
      lock.unlock();
      answer(std::move(a));
    };
  }

  std::function<void(std::string_view, FileOutcome)> on_settled() {
    return [this](std::string_view name, FileOutcome outcome) {
      std::lock_guard lock(mu_);
      settled_.emplace_back(std::string(name), outcome);
      cv_.notify_all();
    };
  }

  // Answers for content containing `marker`, in turn; the last one repeats.
  void answer_with(const std::string& marker, std::deque<FileAnswer> answers) {
    std::lock_guard lock(mu_);
    plans_[marker] = std::move(answers);
  }
  void hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  std::vector<FileAnswerFn> take_held() {
    std::lock_guard lock(mu_);
    return std::exchange(held_, {});
  }

  bool wait_settled(std::size_t n, std::chrono::milliseconds bound = kWait) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return settled_.size() >= n; });
  }
  bool wait_settled(const std::string& name, FileOutcome outcome) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] {
      for (const auto& [n, o] : settled_)
        if (n == name && o == outcome) return true;
      return false;
    });
  }
  bool wait_taken(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return taken_.size() >= n; });
  }
  std::vector<std::string> taken() {
    std::lock_guard lock(mu_);
    return taken_;
  }
  std::vector<std::pair<std::string, FileOutcome>> settled() {
    std::lock_guard lock(mu_);
    return settled_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> taken_;
  std::vector<std::pair<std::string, FileOutcome>> settled_;
  std::map<std::string, std::deque<FileAnswer>> plans_;
  bool hold_ = false;
  std::vector<FileAnswerFn> held_;
};

// Drops a file the way the contract asks: written under a dot name, then renamed in.
void drop(const TempDir& inbox, const std::string& name, const std::string& content) {
  write_text(inbox / ("." + name + ".part"), content);
  std::filesystem::rename(inbox / ("." + name + ".part"), inbox / name);
}

// Every test runs with inotify and with polling.
class InboxWatcherTest : public ::testing::TestWithParam<bool> {
 protected:
  InboxOptions options() {
    InboxOptions o;
    o.folder = inbox_.path();
    o.use_inotify = GetParam();
    // Polling must find files quickly for the tests; with inotify the rescan is a safety net
    // and a long interval proves events alone suffice.
    o.rescan_interval = GetParam() ? std::chrono::seconds{60} : std::chrono::milliseconds{10};
    o.on_settled = broker_.on_settled();
    return o;
  }
  std::unique_ptr<InboxWatcher> start(InboxOptions o) {
    auto watcher = InboxWatcher::start(std::move(o), broker_.handler());
    if (!watcher) {
      ADD_FAILURE() << watcher.error().detail;
      return nullptr;
    }
    EXPECT_EQ((*watcher)->uses_inotify(), GetParam());
    return std::move(watcher).value();
  }

  TempDir inbox_;
  Broker broker_;
};

TEST_P(InboxWatcherTest, TakesARenamedInFileWritesTheReceiptAndMovesItToDone) {
  auto watcher = start(options());
  ASSERT_TRUE(watcher);
  drop(inbox_, "letter.xml", "<Emessage>1</Emessage>");
  ASSERT_TRUE(broker_.wait_settled("letter.xml", FileOutcome::kDone));

  EXPECT_EQ(broker_.taken(), std::vector<std::string>{"<Emessage>1</Emessage>"});
  EXPECT_EQ(read_text(inbox_ / "letter.xml.receipt.xml"),
            "<Receipt><Emessage>1</Emessage></Receipt>");
  EXPECT_EQ(read_text(inbox_ / "done/letter.xml"), "<Emessage>1</Emessage>");
  EXPECT_EQ(list_names(inbox_.path()),
            (std::set<std::string>{"done", "refused", "letter.xml.receipt.xml"}));
}

TEST_P(InboxWatcherTest, MovesRefusedFilesToRefused) {
  broker_.answer_with("bad", {FileAnswer{400, "<Negative/>"}});
  auto watcher = start(options());
  ASSERT_TRUE(watcher);
  drop(inbox_, "bad.xml", "<bad");
  ASSERT_TRUE(broker_.wait_settled("bad.xml", FileOutcome::kRefused));
  EXPECT_EQ(read_text(inbox_ / "bad.xml.receipt.xml"), "<Negative/>");
  EXPECT_EQ(read_text(inbox_ / "refused/bad.xml"), "<bad");
  EXPECT_TRUE(list_names(inbox_ / "done").empty());
}

TEST_P(InboxWatcherTest, IgnoresDotFilesReceiptsFoldersAndLinks) {
  write_text(inbox_ / ".hidden.xml", "<hidden/>");
  write_text(inbox_ / "old.xml.receipt.xml", "<old-receipt/>");
  std::filesystem::create_directory(inbox_ / "sub");
  write_text(inbox_ / "target.txt.receipt.xml", "<linked/>");
  std::filesystem::create_symlink(inbox_ / "target.txt.receipt.xml", inbox_ / "link.xml");
  auto watcher = start(options());
  ASSERT_TRUE(watcher);
  // Files are taken in name order at start and in event order after: once the marker settles,
  // the others have been seen.
  drop(inbox_, "zz-marker.xml", "<marker/>");
  ASSERT_TRUE(broker_.wait_settled("zz-marker.xml", FileOutcome::kDone));

  EXPECT_EQ(broker_.taken(), std::vector<std::string>{"<marker/>"});
  for (const char* kept : {".hidden.xml", "old.xml.receipt.xml", "sub", "link.xml"})
    EXPECT_TRUE(std::filesystem::exists(inbox_ / kept)) << kept;
  EXPECT_EQ(list_names(inbox_ / "done"), std::set<std::string>{"zz-marker.xml"});
}

TEST_P(InboxWatcherTest, AFileBeingWrittenUnderADotNameIsTakenOnlyWhenRenamed) {
  auto watcher = start(options());
  ASSERT_TRUE(watcher);
  const std::string part = inbox_ / ".letter.xml.part";
  {
    std::ofstream out(part, std::ios::binary);
    out << "<Emessage>first half";
    out.flush();
    drop(inbox_, "marker.xml", "<marker/>");
    ASSERT_TRUE(broker_.wait_settled("marker.xml", FileOutcome::kDone));
    EXPECT_EQ(broker_.taken(), std::vector<std::string>{"<marker/>"});
    out << " second half</Emessage>";
  }
  write_text(part + "2", "");  // a second closed dot file: closing is not enough either
  drop(inbox_, "marker2.xml", "<marker2/>");
  ASSERT_TRUE(broker_.wait_settled("marker2.xml", FileOutcome::kDone));
  EXPECT_EQ(broker_.taken().size(), 2U);

  std::filesystem::rename(part, inbox_ / "letter.xml");
  ASSERT_TRUE(broker_.wait_settled("letter.xml", FileOutcome::kDone));
  EXPECT_EQ(broker_.taken().back(), "<Emessage>first half second half</Emessage>");
  EXPECT_EQ(read_text(inbox_ / "done/letter.xml"), "<Emessage>first half second half</Emessage>");
}

TEST_P(InboxWatcherTest, TakesFilesPresentAtStartInNameOrder) {
  write_text(inbox_ / "b.xml", "<b/>");
  write_text(inbox_ / "a.xml", "<a/>");
  write_text(inbox_ / "c.xml", "<c/>");
  auto watcher = start(options());
  ASSERT_TRUE(watcher);
  ASSERT_TRUE(broker_.wait_settled(3));
  EXPECT_EQ(broker_.taken(), (std::vector<std::string>{"<a/>", "<b/>", "<c/>"}));
  EXPECT_EQ(list_names(inbox_ / "done"), (std::set<std::string>{"a.xml", "b.xml", "c.xml"}));
}

TEST_P(InboxWatcherTest, HandlesManyFilesAnsweredFromAnotherThread) {
  constexpr int kAtStart = 100;
  constexpr int kLater = 100;
  // Each file costs two fsyncs (receipt and folder): milliseconds each, far more under TSan.
  constexpr std::chrono::minutes kManyWait{2};
  for (int i = 0; i < kAtStart; ++i)
    write_text(inbox_ / ("s" + std::to_string(i) + ".xml"), "<s" + std::to_string(i) + "/>");

  // Answers come from a responder thread, as the broker's io thread would give them.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::string, FileAnswerFn>> pending;
  bool done = false;
  std::thread responder([&] {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return done || !pending.empty(); });
      if (pending.empty()) return;
      auto [bytes, answer] = std::move(pending.front());
      pending.pop_front();
      lock.unlock();
      answer(FileAnswer{202, "<r>" + bytes + "</r>"});
      lock.lock();
    }
  });
  InboxOptions o = options();
  o.max_in_flight = 8;
  auto watcher = InboxWatcher::start(std::move(o), [&](std::string bytes, FileAnswerFn answer) {
    std::lock_guard lock(mu);
    pending.emplace_back(std::move(bytes), std::move(answer));
    cv.notify_one();
  });
  ASSERT_TRUE(watcher.ok());
  for (int i = 0; i < kLater; ++i)
    drop(inbox_, "l" + std::to_string(i) + ".xml", "<l" + std::to_string(i) + "/>");

  EXPECT_TRUE(broker_.wait_settled(kAtStart + kLater, kManyWait));
  (*watcher)->stop();
  {
    std::lock_guard lock(mu);
    done = true;
    cv.notify_one();
  }
  responder.join();

  const auto settled = broker_.settled();
  EXPECT_EQ(settled.size(), static_cast<std::size_t>(kAtStart + kLater));
  for (const auto& [name, outcome] : settled) EXPECT_EQ(outcome, FileOutcome::kDone) << name;
  EXPECT_EQ(list_names(inbox_ / "done").size(), static_cast<std::size_t>(kAtStart + kLater));
  EXPECT_EQ(read_text(inbox_ / "l7.xml.receipt.xml"), "<r><l7/></r>");
  EXPECT_EQ(read_text(inbox_ / "s42.xml.receipt.xml"), "<r><s42/></r>");
  // Left in the inbox: the two subfolders and one receipt per file.
  EXPECT_EQ(list_names(inbox_.path()).size(), static_cast<std::size_t>(2 + kAtStart + kLater));
}

TEST_P(InboxWatcherTest, RefusesTooLargeFilesUnreadWithAReceipt) {
  InboxOptions o = options();
  o.max_file_bytes = 100;
  o.refusal_body = [](std::string_view reason) {
    return "<Refusal>" + std::string(reason) + "</Refusal>";
  };
  auto watcher = start(std::move(o));
  ASSERT_TRUE(watcher);
  drop(inbox_, "big.xml", std::string(101, 'x'));
  drop(inbox_, "fits.xml", std::string(100, 'y'));
  ASSERT_TRUE(broker_.wait_settled("big.xml", FileOutcome::kRefused));
  ASSERT_TRUE(broker_.wait_settled("fits.xml", FileOutcome::kDone));
  EXPECT_EQ(broker_.taken(), std::vector<std::string>{std::string(100, 'y')});
  EXPECT_EQ(read_text(inbox_ / "big.xml.receipt.xml"),
            "<Refusal>file larger than the limit of 100 bytes</Refusal>");
  EXPECT_TRUE(std::filesystem::exists(inbox_ / "refused/big.xml"));
}

TEST_P(InboxWatcherTest, LeavesAFileWithoutADecisionAndOffersItAgain) {
  broker_.answer_with("flaky", {FileAnswer{503, "<busy/>"}, FileAnswer{200, "<ok/>"}});
  InboxOptions o = options();
  o.rescan_interval = std::chrono::milliseconds{10};  // the retry comes from the rescan
  auto watcher = start(std::move(o));
  ASSERT_TRUE(watcher);
  drop(inbox_, "flaky.xml", "<flaky/>");
  ASSERT_TRUE(broker_.wait_settled("flaky.xml", FileOutcome::kDone));
  const auto settled = broker_.settled();
  ASSERT_EQ(settled.size(), 2U);
  EXPECT_EQ(settled[0].second, FileOutcome::kLeft);
  EXPECT_EQ(broker_.taken(), (std::vector<std::string>{"<flaky/>", "<flaky/>"}));
  EXPECT_EQ(read_text(inbox_ / "flaky.xml.receipt.xml"), "<ok/>");
}

TEST_P(InboxWatcherTest, ADroppedAnswerLeavesTheFileToBeOfferedAgain) {
  InboxOptions o = options();
  o.rescan_interval = std::chrono::milliseconds{10};
  auto watcher = start(std::move(o));
  ASSERT_TRUE(watcher);
  broker_.hold();
  drop(inbox_, "a.xml", "<a/>");
  ASSERT_TRUE(broker_.wait_taken(1));
  broker_.take_held().clear();  // the broker loses the answer function without calling it
  ASSERT_TRUE(broker_.wait_settled("a.xml", FileOutcome::kLeft));
  ASSERT_TRUE(broker_.wait_taken(2));
  auto held = broker_.take_held();
  ASSERT_EQ(held.size(), 1U);
  held[0](FileAnswer{200, "<ok/>"});
  held[0](FileAnswer{400, "<ignored/>"});  // a second answer is ignored
  ASSERT_TRUE(broker_.wait_settled("a.xml", FileOutcome::kDone));
  EXPECT_EQ(read_text(inbox_ / "a.xml.receipt.xml"), "<ok/>");
  EXPECT_TRUE(std::filesystem::exists(inbox_ / "done/a.xml"));
}

TEST_P(InboxWatcherTest, KeepsBothFilesWhenANameIsDroppedTwice) {
  auto watcher = start(options());
  ASSERT_TRUE(watcher);
  drop(inbox_, "same.xml", "<first/>");
  ASSERT_TRUE(broker_.wait_settled(1));
  drop(inbox_, "same.xml", "<second/>");
  ASSERT_TRUE(broker_.wait_settled(2));
  std::multiset<std::string> contents;
  for (const auto& n : list_names(inbox_ / "done"))
    contents.insert(read_text(inbox_ / ("done/" + n)));
  EXPECT_EQ(contents, (std::multiset<std::string>{"<first/>", "<second/>"}));
  EXPECT_EQ(read_text(inbox_ / "same.xml.receipt.xml"), "<Receipt><second/></Receipt>");
}

TEST_P(InboxWatcherTest, StopLeavesUnansweredFilesInPlaceAndIgnoresLateAnswers) {
  InboxOptions o = options();
  o.drain_timeout = std::chrono::milliseconds{20};
  auto watcher = start(std::move(o));
  ASSERT_TRUE(watcher);
  broker_.hold();
  drop(inbox_, "a.xml", "<a/>");
  ASSERT_TRUE(broker_.wait_taken(1));
  watcher->stop();
  auto held = broker_.take_held();
  ASSERT_EQ(held.size(), 1U);
  held[0](FileAnswer{200, "<late/>"});
  watcher.reset();
  EXPECT_EQ(read_text(inbox_ / "a.xml"), "<a/>");
  EXPECT_FALSE(std::filesystem::exists(inbox_ / "a.xml.receipt.xml"));
  EXPECT_TRUE(broker_.settled().empty());
}

// The answer races with stop(): whether it lands before stop() or during the drain, the file
// must be finished.
TEST_P(InboxWatcherTest, StopDoesNotLoseAnAnswerGivenDuringShutdown) {
  auto watcher = start(options());
  ASSERT_TRUE(watcher);
  broker_.hold();
  drop(inbox_, "a.xml", "<a/>");
  ASSERT_TRUE(broker_.wait_taken(1));
  auto held = broker_.take_held();
  ASSERT_EQ(held.size(), 1U);
  std::thread answerer([&] { held[0](FileAnswer{200, "<in-time/>"}); });
  watcher->stop();  // waits for the answer (drain_timeout 5 s)
  answerer.join();
  EXPECT_EQ(read_text(inbox_ / "a.xml.receipt.xml"), "<in-time/>");
  EXPECT_TRUE(std::filesystem::exists(inbox_ / "done/a.xml"));
}

INSTANTIATE_TEST_SUITE_P(Detection, InboxWatcherTest, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? "Inotify" : "Polling";
                         });

TEST(InboxWatcher, RefusesToStartWithoutAFolder) {
  TempDir dir;
  write_text(dir / "plain", "x");
  for (const std::string& folder : {dir / "missing", dir / "plain", std::string("relative")}) {
    InboxOptions o;
    o.folder = folder;
    auto watcher = InboxWatcher::start(o, [](std::string, FileAnswerFn) {});
    ASSERT_FALSE(watcher.ok()) << folder;
    EXPECT_EQ(watcher.error().code, Errc::kConfig);
  }
}

// Several brokers given the same inbox (issue 11): the watcher holding the folder's lock takes
// every file, once; the other takes none until the holder stops, then takes over.
TEST_P(InboxWatcherTest, TwoWatchersOnOneFolderTakeEachFileOnceAndTheSecondTakesOver) {
  Broker second_broker;
  auto first = start(options());
  ASSERT_TRUE(first);
  InboxOptions o2 = options();
  o2.on_settled = second_broker.on_settled();
  o2.rescan_interval = std::chrono::milliseconds{10};  // tries for the lock every 10 ms
  auto second = InboxWatcher::start(std::move(o2), second_broker.handler());
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_TRUE(first->holds_lock());
  constexpr int kFiles = 20;
  for (int i = 0; i < kFiles; ++i)
    drop(inbox_, "f" + std::to_string(i) + ".xml",
         "<Emessage>" + std::to_string(i) + "</Emessage>");
  ASSERT_TRUE(broker_.wait_settled(kFiles));
  EXPECT_EQ(broker_.taken().size(), static_cast<std::size_t>(kFiles));
  EXPECT_TRUE(second_broker.taken().empty()) << "the folder is the first watcher's";
  EXPECT_FALSE((*second)->holds_lock());
  EXPECT_EQ(list_names(inbox_ / "done").size(), static_cast<std::size_t>(kFiles));

  // The first broker stops (or dies: the kernel releases its lock): the second takes over.
  first->stop();
  drop(inbox_, "late.xml", "<Emessage>late</Emessage>");
  ASSERT_TRUE(second_broker.wait_settled("late.xml", FileOutcome::kDone));
  EXPECT_EQ(second_broker.taken(), std::vector<std::string>{"<Emessage>late</Emessage>"});
  EXPECT_TRUE((*second)->holds_lock());
  EXPECT_EQ(broker_.taken().size(), static_cast<std::size_t>(kFiles));
}

}  // namespace
}  // namespace sektorbro
