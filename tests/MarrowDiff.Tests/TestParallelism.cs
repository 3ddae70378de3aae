// The tests run one at a time. Many of them train a network, in process or in a child `marrow` process, and LibTorch
// runs every such job on two OpenMP threads: two test collections at once on a 2-core machine put four spinning
// threads on two cores, and a training step then took ~6x as long as alone (CI, stop 16: the 2,190-step determinism
// run did not finish in 15 minutes; alone it takes about 3). Serial is also how a user runs one command at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
