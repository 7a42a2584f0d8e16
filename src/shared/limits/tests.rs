use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The answer to a right guess of the one secret most tests need.
fn right(t: &LocalBudgets) -> Answer {
    Answer::Right(t.secret_id("a right secret"))
}

#[test]
fn a_client_is_refused_after_its_limit_and_others_are_not() {
    let t = LocalBudgets::new(3, Duration::from_secs(60));
    for _ in 0..3 {
        assert!(!t.spent(ip("192.0.2.1")));
        assert!(
            t.judge(ip("192.0.2.1"), Answer::Wrong).allows(),
            "within the limit"
        );
    }
    assert!(t.spent(ip("192.0.2.1")));
    assert!(!t.judge(ip("192.0.2.1"), Answer::Wrong).allows());
    assert!(
        !t.judge(ip("192.0.2.1"), right(&t)).allows(),
        "a right guess too, once spent"
    );
    assert!(t.judge(ip("192.0.2.2"), Answer::Wrong).allows());
}

#[test]
fn right_guesses_cost_nothing() {
    let t = LocalBudgets::new(1, Duration::from_secs(60));
    let a = ip("192.0.2.1");
    for _ in 0..100 {
        assert!(t.judge(a, right(&t)).allows());
    }
    assert!(
        t.judge(a, Answer::Wrong).allows(),
        "the one wrong guess of the budget"
    );
    assert!(!t.judge(a, Answer::Wrong).allows());
}

#[test]
fn overlapping_wrong_guesses_get_at_most_the_limit_of_answers() {
    let t = Arc::new(LocalBudgets::new(10, Duration::from_secs(60)));
    let answered: usize = (0..8)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || {
                (0..20)
                    .filter(|_| t.judge(ip("192.0.2.1"), Answer::Wrong).allows())
                    .count()
            })
        })
        .map(|h| h.join().unwrap())
        .sum();
    assert_eq!(answered, 10);
}

#[test]
fn the_window_starts_at_the_first_failure() {
    let window = Duration::from_millis(300);
    let t = LocalBudgets::new(1, window);
    let a = ip("192.0.2.1");
    assert!(t.judge(a, right(&t)).allows());
    std::thread::sleep(window);
    let failed_at = Instant::now();
    assert!(t.judge(a, Answer::Wrong).allows());
    let blocked = t.spent(a);
    assert!(
        blocked || failed_at.elapsed() >= window,
        "a right secret earlier started no clock"
    );
}

#[test]
fn the_block_ends_with_the_window() {
    // The window runs on the real clock (`Instant`), so nothing here depends on how
    // fast the machine is: the block is watched until it ends, and it must not end
    // before the window is over (however late the first look comes).
    let window = Duration::from_millis(200);
    let t = LocalBudgets::new(1, window);
    let a = ip("192.0.2.1");
    let before = Instant::now();
    assert!(t.judge(a, Answer::Wrong).allows());
    loop {
        let blocked = t.spent(a);
        let elapsed = before.elapsed();
        if !blocked {
            assert!(elapsed >= window, "unblocked after {elapsed:?}");
            assert!(t.judge(a, right(&t)).allows());
            break;
        }
        assert!(
            elapsed < Duration::from_secs(10),
            "still blocked after {elapsed:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn failures_have_distinct_names() {
    assert_ne!(failure_id(), failure_id());
    assert_eq!(failure_id().len(), 32);
}

#[test]
fn a_window_in_millis_saturates() {
    assert_eq!(millis(Duration::from_secs(60)), 60_000);
    assert_eq!(millis(Duration::MAX), u64::MAX);
}

#[test]
fn right_guesses_of_clients_without_failures_take_no_room() {
    let t = LocalBudgets::new(3, Duration::from_secs(60));
    for n in 0..50u8 {
        let client = ip(&format!("192.0.2.{n}"));
        assert!(t.judge(client, right(&t)).allows());
    }
    t.clients.run_pending_tasks();
    assert_eq!(
        t.clients.entry_count(),
        0,
        "a crowd opening right links fills no budget table"
    );
    // A client that failed has an entry, and its right answers still read it.
    let a = ip("198.51.100.1");
    assert!(t.judge(a, Answer::Wrong).allows());
    t.clients.run_pending_tasks();
    assert_eq!(t.clients.entry_count(), 1);
    assert!(t.judge(a, right(&t)).allows());
}

/// A right secret of a role link: the brand, the room key, the hash.
fn role_link(t: &LocalBudgets, brand: usize, key: &str, hash: &str) -> SecretId {
    t.secret_id((brand, key, hash))
}

fn remembered(t: &LocalBudgets, client: IpAddr) -> usize {
    t.clients
        .get(&client)
        .map_or(0, |budget| lock(&budget).released.len())
}

#[test]
fn a_right_secret_is_known_only_once_remembered_and_only_for_its_client() {
    let t = LocalBudgets::new(3, Duration::from_secs(60));
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    let secret = role_link(&t, 0, "100-000-000", "Host");
    for _ in 0..3 {
        assert_eq!(
            t.judge(a, Answer::Right(secret)),
            Verdict::Allowed,
            "judging a right secret does not remember it: only the fleet's yes does"
        );
    }
    t.remember(a, secret);
    assert_eq!(t.judge(a, Answer::Right(secret)), Verdict::Repeated);
    assert_eq!(t.judge(b, Answer::Right(secret)), Verdict::Allowed);
}

#[test]
fn another_brand_room_or_hash_is_not_known() {
    let t = LocalBudgets::new(3, Duration::from_secs(60));
    let a = ip("192.0.2.1");
    t.remember(a, role_link(&t, 0, "100-000-000", "Host"));
    for (brand, key, hash) in [
        (1, "100-000-000", "Host"),
        (0, "100-000-001", "Host"),
        (0, "100-000-000", "Hosu"),
        (0, "100-000-000Host", ""),
    ] {
        let other = role_link(&t, brand, key, hash);
        assert_eq!(
            t.judge(a, Answer::Right(other)),
            Verdict::Allowed,
            "{brand} {key} {hash}"
        );
    }
    assert_eq!(
        t.judge(a, Answer::Right(role_link(&t, 0, "100-000-000", "Host"))),
        Verdict::Repeated
    );
}

#[test]
fn secret_ids_are_keyed_per_process() {
    let (one, two) = (
        LocalBudgets::new(3, Duration::from_secs(60)),
        LocalBudgets::new(3, Duration::from_secs(60)),
    );
    let link = (0, "100-000-000", "Host");
    assert_eq!(one.secret_id(link), one.secret_id(link));
    assert_ne!(one.secret_id(link), two.secret_id(link));
}

#[test]
fn a_remembered_secret_is_forgotten_a_window_after_its_first_release() {
    let window = Duration::from_millis(300);
    let t = LocalBudgets::new(3, window);
    let a = ip("192.0.2.1");
    let id = t.secret_id("a right secret");
    let secret = Answer::Right(id);
    let before = Instant::now();
    t.remember(a, id);
    let released = Instant::now();
    let known = t.judge(a, secret) == Verdict::Repeated;
    assert!(known || before.elapsed() >= window, "known at once");
    // Released again later in the window: its window still runs from the first release.
    while released.elapsed() < window * 2 / 3 {
        std::thread::sleep(Duration::from_millis(10));
    }
    t.remember(a, id);
    while released.elapsed() < window {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(t.judge(a, secret), Verdict::Allowed, "forgotten");
    assert_eq!(remembered(&t, a), 0);
}

#[test]
fn at_most_a_few_secrets_are_remembered_the_oldest_dropped_first() {
    let t = LocalBudgets::new(3, Duration::from_secs(60));
    let a = ip("192.0.2.1");
    let secrets: Vec<SecretId> = (0..=REMEMBERED)
        .map(|i| role_link(&t, 0, "100-000-000", &format!("Host{i}")))
        .collect();
    for secret in &secrets {
        t.remember(a, *secret);
        t.remember(a, *secret);
        assert!(remembered(&t, a) <= REMEMBERED);
    }
    assert_eq!(remembered(&t, a), REMEMBERED);
    assert_eq!(t.judge(a, Answer::Right(secrets[0])), Verdict::Allowed);
    for secret in &secrets[1..] {
        assert_eq!(t.judge(a, Answer::Right(*secret)), Verdict::Repeated);
    }
}

#[test]
fn a_wrong_guess_is_never_remembered() {
    let t = LocalBudgets::new(3, Duration::from_secs(60));
    let a = ip("192.0.2.1");
    for _ in 0..3 {
        assert_eq!(t.judge(a, Answer::Wrong), Verdict::Allowed);
    }
    assert_eq!(remembered(&t, a), 0);
    assert_eq!(t.judge(a, Answer::Wrong), Verdict::Refused);
}

#[test]
fn a_client_spent_here_is_refused_even_a_secret_it_was_given() {
    let t = LocalBudgets::new(2, Duration::from_secs(60));
    let a = ip("192.0.2.1");
    let secret = t.secret_id("a right secret");
    t.remember(a, secret);
    assert_eq!(t.judge(a, Answer::Right(secret)), Verdict::Repeated);
    for _ in 0..2 {
        assert_eq!(t.judge(a, Answer::Wrong), Verdict::Allowed);
    }
    assert!(t.spent(a));
    assert_eq!(t.judge(a, Answer::Right(secret)), Verdict::Refused);
}
