// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOracleAdapter
/// @notice The mark price of each market as a WAD (18 decimals), built from up to `MAX_SOURCES`
/// independent sources: Chainlink `AggregatorV3Interface` feeds and Pyth pull-oracle price ids.
/// Every trigger in the system uses this price.
/// @dev Rules (docs/DESIGN.md, "Multi-source mark"), evaluated in this order by `price`:
/// 1. the market has sources (`FeedNotSet`); 2. the L2 sequencer is up and past its grace period;
/// 3. each source is read and validated on its own (the call succeeds within SOURCE_READ_GAS and
/// returns every word, answer > 0, timestamp set, not in the future, not older than the source's
/// `maxAge`, Pyth exponent as configured, at most MAX_PRICE_LIMIT and non-zero once scaled);
/// a source that fails is left out: a source never makes `price` revert on its own. 3b. a pull
/// (Pyth) source also needs its confidence at most `maxConfBps` of its price and its print no more
/// than `pullLagTolerance` seconds older than the newest fresh push (Chainlink) observation. Fewer than `quorum` fresh sources: the market is degraded and
/// `price` reverts with the error of the first source that failed (`StalePrice`, ...);
/// 4. the mark is the LOWER median of the fresh sources (sorted ascending, index (n - 1) / 2: always
/// a price some source published, exact); 5. the sources within `maxSpreadBps` of the mark
/// (`|p - mark| * 10_000 <= mark * maxSpreadBps`) agree with it; fewer than `quorum` agreeing:
/// `SpreadTooWide`; the others are outvoted; 5b. the mark is at most the market's sanity bound
/// `maxPrice` (0: `MAX_PRICE_LIMIT`, the most any valuation in the system can carry), else
/// `PriceAboveBound`: a feed gone absurd degrades its market with a named error, never an
/// overflow further on; 6. the price band: while the last accepted mark
/// (recorded by the permissionless `updateMark`) is at most `bandWindow` seconds old, a mark more
/// than `bandBps` away from it is valid only once confirmed by a later observation beyond the band
/// on the same side, recorded as pending by an earlier `updateMark` (`PriceOutsideBand`).
interface IOracleAdapter {
    /* TYPES */

    /// @notice A source's kind: a Chainlink-style aggregator, or a Pyth price id on a Pyth contract.
    enum SourceKind {
        Chainlink,
        Pyth
    }

    /// @notice What the owner configures per source; `priceId` is used by Pyth sources only.
    struct SourceSpec {
        SourceKind kind;
        address feed;
        bytes32 priceId;
        uint256 maxAge;
    }

    /// @notice A configured source; `decimals` is read from the feed (Pyth: `-expo`) when set.
    struct Source {
        SourceKind kind;
        address feed;
        bytes32 priceId;
        uint8 decimals;
        uint256 maxAge;
    }

    /// @notice Per-market aggregation rules (bounds: see `setOracle`).
    struct OracleParams {
        uint256 quorum;
        uint256 maxSpreadBps;
        uint256 bandBps;
        uint256 bandWindow;
        uint256 maxPrice; // WAD; 0 = MAX_PRICE_LIMIT
        uint256 maxConfBps; // a pull price's confidence at most this share of it; 0 = no limit
        uint256 pullLagTolerance; // seconds a pull print may be older than the newest push observation
    }

    /// @notice The band's state: the last accepted mark and an out-of-band mark awaiting confirmation.
    struct Mark {
        uint256 price;
        uint256 acceptedAt;
        uint256 pendingPrice;
        uint256 pendingObservedAt;
    }

    /// @notice A market's state, as `markStatus` reports it (the order of the checks in `price`).
    enum MarkStatus {
        Live,
        NotConfigured,
        SequencerDown,
        BelowQuorum,
        SpreadTooWide,
        OutsideBand,
        AboveBound
    }

    /// @notice A source's health as `markStatus` / `sourceHealthOf` report it: `Ok`, or why the
    /// source is left out (step 3).
    enum SourceHealth {
        Ok,
        NonPositive,
        NoTimestamp,
        Future,
        Stale,
        BadExponent,
        ScalesToZero,
        Reverted,
        Malformed,
        Absurd,
        WideConfidence,
        BehindPush
    }

    /* ERRORS */

    /// @notice No source is configured for the market.
    error FeedNotSet(uint256 marketId);
    /// @notice The source's read reverted or used up its SOURCE_READ_GAS.
    error SourceReverted(uint256 marketId, address feed);
    /// @notice The source returned `size` bytes, fewer than its interface's words (or a Pyth
    /// exponent outside int32).
    error MalformedAnswer(uint256 marketId, address feed, uint256 size);
    /// @notice A source read ran out of gas because the CALLER was short of gas (63/64 rule): not
    /// the source's fault, so the whole call reverts instead of leaving the source out.
    error SourceReadOutOfGas(address feed);
    /// @notice The feed answered zero or a negative number, or one beyond MAX_PRICE_LIMIT once scaled.
    error InvalidAnswer(uint256 marketId, int256 answer);
    /// @notice The feed's round has `updatedAt == 0` (incomplete round).
    error MissingTimestamp(uint256 marketId);
    /// @notice The feed's `updatedAt` lies after the current block.
    error FutureTimestamp(uint256 marketId, uint256 updatedAt, uint256 blockTimestamp);
    /// @notice `block.timestamp - updatedAt > maxAge`.
    error StalePrice(uint256 marketId, uint256 updatedAt, uint256 blockTimestamp, uint256 maxAge);
    /// @notice A Pyth price's exponent differs from the one read when the source was configured.
    error UnexpectedExponent(uint256 marketId, int32 expo);
    /// @notice Fewer than `quorum` fresh sources lie within `maxSpreadBps` of the median.
    error SpreadTooWide(uint256 marketId, uint256 median, uint256 agreeing, uint256 quorum);
    /// @notice The mark moved more than `bandBps` from the last accepted mark within the band
    /// window and is not confirmed yet.
    error PriceOutsideBand(uint256 marketId, uint256 mark, uint256 lastAccepted);
    /// @notice Step 5b: the mark exceeds the market's sanity bound.
    error PriceAboveBound(uint256 marketId, uint256 mark, uint256 maxPrice);
    /// @notice The L2 sequencer-uptime feed reports the sequencer down (answer != 0, or no round).
    error SequencerDown();
    /// @notice The sequencer came back up less than `gracePeriod` seconds ago.
    error SequencerGracePeriod(uint256 restartedAt, uint256 blockTimestamp, uint256 gracePeriod);
    /// @notice `maxAge` must be in [1, MAX_AGE_LIMIT].
    error InvalidMaxAge(uint256 maxAge);
    /// @notice Feeds with more than 36 decimals are not supported.
    error UnsupportedFeedDecimals(uint8 decimals);
    /// @notice A Pyth exponent must be in [-36, 0].
    error UnsupportedExponent(int32 expo);
    /// @notice The feed address is zero.
    error ZeroFeed();
    /// @notice A market has 1 to MAX_SOURCES sources.
    error InvalidSourceCount(uint256 count);
    /// @notice `quorum` must be in [1, number of sources].
    error InvalidQuorum(uint256 quorum, uint256 sources);
    /// @notice `maxSpreadBps` must be at most MAX_SPREAD_BPS.
    error InvalidMaxSpread(uint256 maxSpreadBps);
    /// @notice `bandBps` must be at most MAX_BAND_BPS (0 = no band).
    error InvalidBand(uint256 bandBps);
    /// @notice `bandWindow` must be at most MAX_BAND_WINDOW.
    error InvalidBandWindow(uint256 bandWindow);
    /// @notice `maxPrice` must be at most MAX_PRICE_LIMIT (0 = MAX_PRICE_LIMIT).
    error InvalidMaxPrice(uint256 maxPrice);
    /// @notice A pull price's confidence interval exceeds `maxConfBps` of the price.
    error ConfidenceTooWide(uint256 marketId, uint256 conf, int256 price);
    /// @notice A pull print published more than `pullLagTolerance` before the newest push observation.
    error PullPriceBehindPush(uint256 marketId, uint256 publishTime, uint256 newestPushAt);
    /// @notice `maxConfBps` must be at most MAX_CONF_BPS.
    error InvalidMaxConfidence(uint256 maxConfBps);
    /// @notice `pullLagTolerance` must be at most MAX_PULL_LAG_TOLERANCE.
    error InvalidPullLagTolerance(uint256 pullLagTolerance);
    /// @notice `pinFill` / `unpin` called by someone other than the order router.
    error NotOrderRouter(address caller);
    /// @notice `setOrderRouter` once only.
    error OrderRouterAlreadySet();
    /// @notice Round hints: none, or one per source.
    error RoundHintCount(uint256 hints, uint256 sources);
    /// @notice The keeper's round for source `index` is not its first with `updatedAt >= readyAt`.
    error BadRoundHint(uint256 marketId, uint256 index, uint80 roundId);
    /// @notice The round starts a proxy phase: its predecessor cannot be read to prove it first.
    error PhaseStartRound(uint256 marketId, uint256 index, uint256 roundId);
    /// @notice More than MAX_ROUND_WALK rounds since readyAt: the keeper must name the round.
    error RoundWalkTooLong(uint256 marketId, uint256 index);
    /// @notice Not every source has its first observation yet and the fill window is open.
    error FillNotReady(uint256 marketId, uint256 present, uint256 closesAt);
    /// @notice The fill window closed with fewer than `quorum` pinned observations.
    error PinnedBelowQuorum(uint256 marketId, uint256 present, uint256 quorum);
    /// @notice The value sent does not cover the pull update fee.
    error InsufficientUpdateFee(uint256 fee, uint256 value);
    /// @notice The unspent value could not be sent back.
    error RefundFailed();
    /// @notice The sequencer grace period must be at most MAX_GRACE_PERIOD.
    error InvalidGracePeriod(uint256 gracePeriod);

    /* EVENTS */

    event FeedSet(uint256 indexed marketId, address feed, uint8 decimals, uint256 maxAge);
    event SourceSet(
        uint256 indexed marketId,
        uint256 index,
        SourceKind kind,
        address feed,
        bytes32 priceId,
        uint8 decimals,
        uint256 maxAge
    );
    event OracleParamsSet(
        uint256 indexed marketId,
        uint256 quorum,
        uint256 maxSpreadBps,
        uint256 bandBps,
        uint256 bandWindow,
        uint256 maxPrice,
        uint256 maxConfBps,
        uint256 pullLagTolerance
    );
    event MarkAccepted(uint256 indexed marketId, uint256 mark, uint256 oldestObservedAt, uint256 newestObservedAt);
    event MarkPending(uint256 indexed marketId, uint256 mark, uint256 lastAccepted, uint256 newestObservedAt);
    event SequencerFeedSet(address feed, uint256 gracePeriod);
    event OrderRouterSet(address router);

    /* FUNCTIONS */

    /// @notice Owner only. Makes `feed` the market's only source (Chainlink, quorum 1); reads and
    /// stores `feed.decimals()`. The spread and band parameters are kept.
    function setFeed(uint256 marketId, address feed, uint256 maxAge) external;

    /// @notice Owner only. Replaces the market's sources and aggregation rules. Bounds: 1 to
    /// MAX_SOURCES sources, each with a non-zero feed and `maxAge` in [1, MAX_AGE_LIMIT], Chainlink
    /// decimals at most 36, Pyth exponent in [-36, 0]; quorum in [1, sources]; `maxSpreadBps` at most
    /// MAX_SPREAD_BPS; `bandBps` at most MAX_BAND_BPS; `bandWindow` at most MAX_BAND_WINDOW;
    /// `maxPrice` at most MAX_PRICE_LIMIT.
    /// Checked in that order (sources first, each source field by field).
    function setOracle(uint256 marketId, SourceSpec[] calldata sources, OracleParams calldata params) external;

    /// @notice Owner only. Sets the L2 sequencer-uptime feed; `address(0)` disables the check.
    /// `gracePeriod` at most MAX_GRACE_PERIOD.
    function setSequencerFeed(address feed, uint256 gracePeriod) external;

    /// @notice Owner only, once: the order router allowed to pin fills.
    function setOrderRouter(address router) external;

    /// @notice The order router only. The fill mark of an order ready at `readyAt` (SPEC §5a):
    /// per source its first observation at or after `readyAt` (Chainlink: the first round by round
    /// id, `roundIds[i]` named by the keeper or 0 to walk back from the latest; Pyth: a signed
    /// update in `[readyAt, readyAt + pullFillWindow]` from `pullUpdates`, fee from the value,
    /// or the stored print in that range), counted when it lies in `[readyAt, readyAt +
    /// fillWindow]`. Reverts `FillNotReady` until every source has one or the window closed, then
    /// needs a quorum within the spread. Pins the mark for the rest of the transaction: `price`
    /// and `priceWithTime` return it until `unpin`. Refunds unspent value to the caller.
    function pinFill(
        uint256 marketId,
        uint256 readyAt,
        uint256 fillWindow,
        uint256 pullFillWindow,
        uint80[] calldata roundIds,
        bytes[] calldata pullUpdates
    ) external payable returns (uint256 mark, uint256 observedAt);

    /// @notice The order router only: ends the pinned fill.
    function unpin() external;

    /// @notice Anyone. Records the current mark as accepted when it passes the band (returns true),
    /// else records it as pending confirmation (returns false). Reverts like `price` when the market
    /// is degraded for any other reason. Keepers call it after every new observation.
    function updateMark(uint256 marketId) external returns (bool accepted);

    /// @notice The market's mark price in USD, 18 decimals; reverts when the market is degraded.
    function price(uint256 marketId) external view returns (uint256);

    /// @notice `price(marketId)` (same checks, same reverts) and the OLDEST `updatedAt` /
    /// `publishTime` among the observations that produced it (the sources agreeing with the mark).
    function priceWithTime(uint256 marketId) external view returns (uint256 price, uint256 observedAt);

    /// @notice The market's state now: which check fails first (Live when none does), the number
    /// of fresh sources and of sources agreeing with the median (0 when not evaluated), and why the
    /// first left-out source was left out (`Ok` when none was). Never reverts.
    function markStatus(uint256 marketId)
        external
        view
        returns (MarkStatus status, uint256 fresh, uint256 agreeing, SourceHealth firstFault);

    /// @notice Each source's health now (step 3), in source order. Never reverts.
    function sourceHealthOf(uint256 marketId) external view returns (SourceHealth[] memory);

    /// @notice The market's first source: (feed, decimals, maxAge).
    function feedOf(uint256 marketId) external view returns (address feed, uint8 decimals, uint256 maxAge);

    /// @notice The market's sources.
    function sourcesOf(uint256 marketId) external view returns (Source[] memory);

    /// @notice The market's aggregation rules.
    function oracleParamsOf(uint256 marketId) external view returns (OracleParams memory);

    /// @notice The market's band state.
    function markOf(uint256 marketId) external view returns (Mark memory);
}
