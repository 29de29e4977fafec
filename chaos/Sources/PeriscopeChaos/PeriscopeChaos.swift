/// The chaos harness's pure core (issue 18, first step): the seeded fault schedule, the
/// kernel rules a partition becomes, the operation history and the checkers that judge it.
/// No I/O here: the harness's shell (launching nodes, applying rules, driving the workload)
/// performs what this module decides, so a seed replays the same run and every checker can
/// be fed a wrong history in a test.
enum PeriscopeChaos {}
