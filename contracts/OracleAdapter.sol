// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IPyth} from "@pythnetwork/pyth-sdk-solidity/IPyth.sol";
import {PythStructs} from "@pythnetwork/pyth-sdk-solidity/PythStructs.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";

/// @title OracleAdapter
/// @notice A multi-source mark per market: the lower median of the fresh sources, with a quorum,
/// a maximum spread around the median and a price band (SPEC §4; rules in `IOracleAdapter`).
/// @dev Mirrored statement for statement by `pymodel/oracle_adapter.py`. Every check is its own
/// statement, in the order `IOracleAdapter` documents, so that both sides revert with the same
/// error and the same arguments.
contract OracleAdapter is IOracleAdapter, Ownable {
    /* CONSTANTS */

    /// @notice Upper bound of a source's `maxAge` (Chainlink heartbeats are at most a day).
    uint256 public constant MAX_AGE_LIMIT = 7 days;
    /// @notice Above this, `10 ** (decimals - 18)` would exceed 1e18 and scale almost every answer to 0.
    uint8 public constant MAX_FEED_DECIMALS = 36;
    /// @notice Sources per market.
    uint256 public constant MAX_SOURCES = 5;
    /// @notice Upper bound of `maxSpreadBps` (50% around the median).
    uint256 public constant MAX_SPREAD_BPS = 5_000;
    /// @notice Upper bound of `bandBps` (a 100% move).
    uint256 public constant MAX_BAND_BPS = 10_000;
    /// @notice Upper bound of `bandWindow`.
    uint256 public constant MAX_BAND_WINDOW = 1 days;
    /// @notice Upper bound of `maxPrice`, and the bound where it is 0: the LP pool's valuation
    /// multiplies open interest by the price, and above this it could overflow.
    uint256 public constant MAX_PRICE_LIMIT = 1e36;
    /// @notice Upper bound of `maxConfBps` (a pull price's confidence interval, 10% of the price).
    uint256 public constant MAX_CONF_BPS = 1_000;
    /// @notice Upper bound of `pullLagTolerance`.
    uint256 public constant MAX_PULL_LAG_TOLERANCE = 1 hours;
    /// @notice Rounds a pinned fill walks back from the latest one to find the first at or after
    /// `readyAt` when the keeper names none (more: the keeper names the round).
    uint256 public constant MAX_ROUND_WALK = 8;
    /// @notice Upper bound of the sequencer grace period (Chainlink suggests an hour).
    uint256 public constant MAX_GRACE_PERIOD = 1 days;
    /// @notice Gas a source's read may use (a Chainlink proxy read costs ~15k, Pyth ~10k): a source
    /// that burns more is left out like one that reverts.
    uint256 public constant SOURCE_READ_GAS = 100_000;
    uint8 internal constant WAD_DECIMALS = 18;
    uint256 internal constant BPS = 10_000;

    // Why a source was left out (0: it was not).
    uint8 internal constant OK = 0;
    uint8 internal constant NON_POSITIVE = 1;
    uint8 internal constant NO_TIMESTAMP = 2;
    uint8 internal constant FUTURE = 3;
    uint8 internal constant STALE = 4;
    uint8 internal constant BAD_EXPONENT = 5;
    uint8 internal constant SCALES_TO_ZERO = 6;
    uint8 internal constant REVERTED = 7;
    uint8 internal constant MALFORMED = 8;
    uint8 internal constant ABSURD = 9;
    uint8 internal constant WIDE_CONFIDENCE = 10;
    uint8 internal constant BEHIND_PUSH = 11;
    // Return words of `latestRoundData()` and of `getPriceUnsafe(bytes32)`.
    uint256 internal constant CHAINLINK_WORDS = 5;
    uint256 internal constant PYTH_WORDS = 4;

    /* TYPES */

    /// @dev One source's reading: its WAD price and time, or why it was left out.
    struct Reading {
        uint8 reason;
        SourceKind kind;
        uint256 newestPushAt;
        address feed;
        uint256 size;
        uint256 wad;
        uint256 observedAt;
        int256 answer;
        uint256 conf;
        int32 expo;
        uint256 maxAge;
    }

    /// @dev A pinned fill being collected: the order's times, the observations so far, the fee spent.
    struct Pinned {
        uint256 readyAt;
        uint256 closesAt;
        uint256 pullFillWindow;
        uint256 count;
        uint256[] wads;
        uint256[] times;
        uint256 present;
        uint256 spent;
    }

    /// @dev Steps 3-5 of `price`, without reverting.
    struct Evaluation {
        uint256 fresh;
        uint256 agreeing;
        uint256 mark;
        uint256 oldestAt;
        uint256 newestAt;
        Reading firstRejected;
    }

    /// @dev A source as stored: one slot (`maxAge` <= 7 days fits 64 bits); a Pyth source's price
    /// id lives in `_priceIds`, read only for Pyth sources.
    struct StoredSource {
        SourceKind kind;
        address feed;
        uint8 decimals;
        uint64 maxAge;
    }

    /// @dev `OracleParams` as stored: one slot (every field is bounded far below its width;
    /// MAX_PRICE_LIMIT < 2^120).
    struct StoredParams {
        uint8 quorum;
        uint16 maxSpreadBps;
        uint16 bandBps;
        uint32 bandWindow;
        uint128 maxPrice;
        uint16 maxConfBps;
        uint32 pullLagTolerance;
    }

    /* STORAGE */

    mapping(uint256 marketId => StoredSource[]) internal _sources;
    mapping(uint256 marketId => mapping(uint256 index => bytes32)) internal _priceIds;
    mapping(uint256 marketId => StoredParams) internal _params;
    mapping(uint256 marketId => Mark) internal _marks;

    /// @notice The order router, the only caller of `pinFill` / `unpin` (set once by the owner).
    address public orderRouter;
    /// @dev The fill pinned for the engine call in progress (EIP-1153: gone with the transaction):
    /// market id + 1 (0: none), its mark and newest observation.
    uint256 internal transient _pinnedMarket;
    uint256 internal transient _pinnedPrice;
    uint256 internal transient _pinnedObservedAt;

    /// @notice L2 sequencer-uptime feed; `address(0)` when the check is off.
    AggregatorV3Interface public sequencerFeed;
    /// @notice Seconds after a sequencer restart during which prices are refused.
    uint256 public sequencerGracePeriod;

    /* CONSTRUCTOR */

    constructor(address initialOwner) Ownable(initialOwner) {}

    /* CONFIGURATION */

    /// @inheritdoc IOracleAdapter
    function setFeed(uint256 marketId, address feed, uint256 maxAge) external onlyOwner {
        if (feed == address(0)) revert ZeroFeed();
        if (maxAge == 0 || maxAge > MAX_AGE_LIMIT) revert InvalidMaxAge(maxAge);
        uint8 decimals = AggregatorV3Interface(feed).decimals();
        if (decimals > MAX_FEED_DECIMALS) revert UnsupportedFeedDecimals(decimals);

        delete _sources[marketId];
        _sources[marketId].push(StoredSource(SourceKind.Chainlink, feed, decimals, uint64(maxAge)));
        delete _priceIds[marketId][0];
        _params[marketId].quorum = 1;

        emit FeedSet(marketId, feed, decimals, maxAge);
    }

    /// @inheritdoc IOracleAdapter
    function setOracle(uint256 marketId, SourceSpec[] calldata sources, OracleParams calldata params)
        external
        onlyOwner
    {
        if (sources.length == 0 || sources.length > MAX_SOURCES) revert InvalidSourceCount(sources.length);
        delete _sources[marketId];
        for (uint256 i = 0; i < sources.length; i++) {
            SourceSpec calldata spec = sources[i];
            if (spec.feed == address(0)) revert ZeroFeed();
            if (spec.maxAge == 0 || spec.maxAge > MAX_AGE_LIMIT) revert InvalidMaxAge(spec.maxAge);
            uint8 decimals = _decimalsOf(spec);
            _sources[marketId].push(StoredSource(spec.kind, spec.feed, decimals, uint64(spec.maxAge)));
            _priceIds[marketId][i] = spec.priceId;

            emit SourceSet(marketId, i, spec.kind, spec.feed, spec.priceId, decimals, spec.maxAge);
        }
        if (params.quorum == 0 || params.quorum > sources.length) revert InvalidQuorum(params.quorum, sources.length);
        if (params.maxSpreadBps > MAX_SPREAD_BPS) revert InvalidMaxSpread(params.maxSpreadBps);
        if (params.bandBps > MAX_BAND_BPS) revert InvalidBand(params.bandBps);
        if (params.bandWindow > MAX_BAND_WINDOW) revert InvalidBandWindow(params.bandWindow);
        if (params.maxPrice > MAX_PRICE_LIMIT) revert InvalidMaxPrice(params.maxPrice);
        if (params.maxConfBps > MAX_CONF_BPS) revert InvalidMaxConfidence(params.maxConfBps);
        if (params.pullLagTolerance > MAX_PULL_LAG_TOLERANCE) revert InvalidPullLagTolerance(params.pullLagTolerance);
        _params[marketId] = StoredParams(
            uint8(params.quorum),
            uint16(params.maxSpreadBps),
            uint16(params.bandBps),
            uint32(params.bandWindow),
            uint128(params.maxPrice),
            uint16(params.maxConfBps),
            uint32(params.pullLagTolerance)
        );

        emit OracleParamsSet(
            marketId,
            params.quorum,
            params.maxSpreadBps,
            params.bandBps,
            params.bandWindow,
            params.maxPrice,
            params.maxConfBps,
            params.pullLagTolerance
        );
    }

    /// @inheritdoc IOracleAdapter
    function setSequencerFeed(address feed, uint256 gracePeriod) external onlyOwner {
        if (gracePeriod > MAX_GRACE_PERIOD) revert InvalidGracePeriod(gracePeriod);
        sequencerFeed = AggregatorV3Interface(feed);
        sequencerGracePeriod = gracePeriod;

        emit SequencerFeedSet(feed, gracePeriod);
    }

    /// @inheritdoc IOracleAdapter
    function setOrderRouter(address router) external onlyOwner {
        if (orderRouter != address(0)) revert OrderRouterAlreadySet();
        if (router == address(0)) revert ZeroFeed();
        orderRouter = router;

        emit OrderRouterSet(router);
    }

    /* PINNED FILLS (the order router) */

    /// @inheritdoc IOracleAdapter
    function pinFill(
        uint256 marketId,
        uint256 readyAt,
        uint256 fillWindow,
        uint256 pullFillWindow,
        uint80[] calldata roundIds,
        bytes[] calldata pullUpdates
    ) external payable returns (uint256 mark, uint256 observedAt) {
        if (msg.sender != orderRouter) revert NotOrderRouter(msg.sender);
        Pinned memory pinned = _startPin(marketId, readyAt, fillWindow, pullFillWindow, roundIds.length);
        for (uint256 i = 0; i < pinned.count; i++) {
            _pinSource(marketId, i, pinned, roundIds, pullUpdates);
        }
        (mark, observedAt) = _finishPin(marketId, pinned);
    }

    /// @dev The checks before any source is read, and an empty `Pinned`.
    function _startPin(uint256 marketId, uint256 readyAt, uint256 fillWindow, uint256 pullFillWindow, uint256 hints)
        internal
        view
        returns (Pinned memory pinned)
    {
        uint256 count = _sources[marketId].length;
        if (count == 0) revert FeedNotSet(marketId);
        _checkSequencer();
        if (hints != 0 && hints != count) revert RoundHintCount(hints, count);
        pinned = Pinned(
            readyAt, readyAt + fillWindow, pullFillWindow, count, new uint256[](count), new uint256[](count), 0, 0
        );
    }

    /// @dev Readiness, quorum, the median; the pin; the refund of the value not spent on fees.
    function _finishPin(uint256 marketId, Pinned memory pinned) internal returns (uint256 mark, uint256 observedAt) {
        if (pinned.present < pinned.count && block.timestamp <= pinned.closesAt) {
            revert FillNotReady(marketId, pinned.present, pinned.closesAt);
        }
        uint256 quorum = _params[marketId].quorum;
        if (pinned.present < quorum) revert PinnedBelowQuorum(marketId, pinned.present, quorum);
        (mark, observedAt) = _pinnedMedian(marketId, pinned.wads, pinned.times, pinned.present, quorum);

        _pinnedMarket = marketId + 1;
        _pinnedPrice = mark;
        _pinnedObservedAt = observedAt;
        if (msg.value > pinned.spent) {
            (bool refunded,) = msg.sender.call{value: msg.value - pinned.spent}("");
            if (!refunded) revert RefundFailed();
        }
    }

    /// @dev Source `index`'s pinned observation, appended to `pinned` when it lies in
    /// `[readyAt, closesAt]`.
    function _pinSource(
        uint256 marketId,
        uint256 index,
        Pinned memory pinned,
        uint80[] calldata roundIds,
        bytes[] calldata pullUpdates
    ) internal {
        StoredSource memory source = _sources[marketId][index];
        Reading memory r;
        if (source.kind == SourceKind.Chainlink) {
            uint80 hint = roundIds.length == 0 ? 0 : roundIds[index];
            r = _pinnedRound(marketId, index, source, pinned.readyAt, hint);
        } else {
            uint256 fee;
            (r, fee) = _pinnedPull(
                marketId, index, source, pinned.readyAt, pinned.pullFillWindow, pullUpdates, msg.value - pinned.spent
            );
            pinned.spent += fee;
        }
        // Only an observation in [readyAt, readyAt + fillWindow] is this order's.
        if (r.reason != OK || r.observedAt > pinned.closesAt) return;
        pinned.wads[pinned.present] = r.wad;
        pinned.times[pinned.present] = r.observedAt;
        pinned.present++;
    }

    /// @inheritdoc IOracleAdapter
    function unpin() external {
        if (msg.sender != orderRouter) revert NotOrderRouter(msg.sender);
        _pinnedMarket = 0;
        _pinnedPrice = 0;
        _pinnedObservedAt = 0;
    }

    /* MARK (anyone) */

    /// @inheritdoc IOracleAdapter
    function updateMark(uint256 marketId) external returns (bool accepted) {
        Evaluation memory e = _evaluateOrRevert(marketId);
        Mark storage last = _marks[marketId];
        if (_passesBand(marketId, e)) {
            _marks[marketId] = Mark(e.mark, block.timestamp, 0, 0);

            emit MarkAccepted(marketId, e.mark, e.oldestAt, e.newestAt);
            return true;
        }
        last.pendingPrice = e.mark;
        last.pendingObservedAt = e.newestAt;

        emit MarkPending(marketId, e.mark, last.price, e.newestAt);
        return false;
    }

    /* PRICE */

    /// @inheritdoc IOracleAdapter
    function price(uint256 marketId) external view returns (uint256) {
        (uint256 mark,) = _priceWithTime(marketId);
        return mark;
    }

    /// @inheritdoc IOracleAdapter
    function priceWithTime(uint256 marketId) external view returns (uint256 price_, uint256 observedAt) {
        return _priceWithTime(marketId);
    }

    /// @inheritdoc IOracleAdapter
    function markStatus(uint256 marketId)
        external
        view
        returns (MarkStatus status, uint256 fresh, uint256 agreeing, SourceHealth firstFault)
    {
        if (_sources[marketId].length == 0) return (MarkStatus.NotConfigured, 0, 0, SourceHealth.Ok);
        if (!_sequencerUp()) return (MarkStatus.SequencerDown, 0, 0, SourceHealth.Ok);
        Evaluation memory e = _evaluate(marketId);
        firstFault = SourceHealth(e.firstRejected.reason);
        uint256 quorum = _params[marketId].quorum;
        if (e.fresh < quorum) return (MarkStatus.BelowQuorum, e.fresh, e.agreeing, firstFault);
        if (e.agreeing < quorum) return (MarkStatus.SpreadTooWide, e.fresh, e.agreeing, firstFault);
        if (e.mark > _maxPrice(marketId)) return (MarkStatus.AboveBound, e.fresh, e.agreeing, firstFault);
        if (!_passesBand(marketId, e)) return (MarkStatus.OutsideBand, e.fresh, e.agreeing, firstFault);
        return (MarkStatus.Live, e.fresh, e.agreeing, firstFault);
    }

    /// @inheritdoc IOracleAdapter
    function sourceHealthOf(uint256 marketId) external view returns (SourceHealth[] memory health) {
        Reading[] memory readings = _readAll(marketId);
        health = new SourceHealth[](readings.length);
        for (uint256 i = 0; i < readings.length; i++) {
            health[i] = SourceHealth(readings[i].reason);
        }
    }

    /// @inheritdoc IOracleAdapter
    function feedOf(uint256 marketId) external view returns (address feed, uint8 decimals, uint256 maxAge) {
        StoredSource[] storage sources = _sources[marketId];
        if (sources.length == 0) return (address(0), 0, 0);
        return (sources[0].feed, sources[0].decimals, sources[0].maxAge);
    }

    /// @inheritdoc IOracleAdapter
    function sourcesOf(uint256 marketId) external view returns (Source[] memory sources) {
        StoredSource[] storage stored = _sources[marketId];
        sources = new Source[](stored.length);
        for (uint256 i = 0; i < stored.length; i++) {
            StoredSource memory s = stored[i];
            sources[i] = Source(s.kind, s.feed, _priceIds[marketId][i], s.decimals, s.maxAge);
        }
    }

    /// @inheritdoc IOracleAdapter
    function oracleParamsOf(uint256 marketId) external view returns (OracleParams memory) {
        StoredParams memory p = _params[marketId];
        return OracleParams(p.quorum, p.maxSpreadBps, p.bandBps, p.bandWindow, p.maxPrice, p.maxConfBps, p.pullLagTolerance);
    }

    /// @inheritdoc IOracleAdapter
    function markOf(uint256 marketId) external view returns (Mark memory) {
        return _marks[marketId];
    }

    /* INTERNAL */

    function _priceWithTime(uint256 marketId) internal view returns (uint256, uint256) {
        // During a pinned fill the engine trades at the order's pinned mark.
        if (_pinnedMarket == marketId + 1) return (_pinnedPrice, _pinnedObservedAt);
        Evaluation memory e = _evaluateOrRevert(marketId);
        if (!_passesBand(marketId, e)) revert PriceOutsideBand(marketId, e.mark, _marks[marketId].price);
        return (e.mark, e.oldestAt);
    }

    /// @dev Steps 1-5b of `price`: reverts when the market has no sources, the sequencer is down,
    /// fewer than `quorum` sources are fresh (with the first left-out source's error) or agree,
    /// or the mark is above the market's sanity bound.
    function _evaluateOrRevert(uint256 marketId) internal view returns (Evaluation memory e) {
        if (_sources[marketId].length == 0) revert FeedNotSet(marketId);

        _checkSequencer();

        e = _evaluate(marketId);
        uint256 quorum = _params[marketId].quorum;
        if (e.fresh < quorum) _revertRejected(marketId, e.firstRejected);
        if (e.agreeing < quorum) revert SpreadTooWide(marketId, e.mark, e.agreeing, quorum);
        uint256 maxPrice = _maxPrice(marketId);
        if (e.mark > maxPrice) revert PriceAboveBound(marketId, e.mark, maxPrice);
    }

    /// @dev The market's sanity bound: `maxPrice`, or MAX_PRICE_LIMIT where it is 0 (`setFeed`
    /// markets, and those configured without one).
    function _maxPrice(uint256 marketId) internal view returns (uint256) {
        uint256 maxPrice = _params[marketId].maxPrice;
        return maxPrice == 0 ? MAX_PRICE_LIMIT : maxPrice;
    }

    /// @dev Reads every source, takes the lower median of the fresh ones and counts the sources
    /// within `maxSpreadBps` of it, with the oldest and newest of their observation times.
    function _evaluate(uint256 marketId) internal view returns (Evaluation memory e) {
        Reading[] memory readings = _readAll(marketId);
        uint256[] memory wads = new uint256[](readings.length);
        uint256[] memory times = new uint256[](readings.length);
        for (uint256 i = 0; i < readings.length; i++) {
            Reading memory reading = readings[i];
            if (reading.reason != OK) {
                if (e.firstRejected.reason == OK) e.firstRejected = reading;
                continue;
            }
            wads[e.fresh] = reading.wad;
            times[e.fresh] = reading.observedAt;
            e.fresh++;
        }
        if (e.fresh == 0) return e;

        e.mark = _lowerMedian(wads, e.fresh);
        uint256 maxSpreadBps = _params[marketId].maxSpreadBps;
        for (uint256 i = 0; i < e.fresh; i++) {
            uint256 distance = wads[i] > e.mark ? wads[i] - e.mark : e.mark - wads[i];
            if (distance * BPS > e.mark * maxSpreadBps) continue;
            if (e.agreeing == 0 || times[i] < e.oldestAt) e.oldestAt = times[i];
            if (times[i] > e.newestAt) e.newestAt = times[i];
            e.agreeing++;
        }
    }

    /// @dev Step 3 for every source, then the pull rule: a fresh pull (Pyth) reading published
    /// more than `pullLagTolerance` seconds before the newest fresh push (Chainlink) observation is
    /// left out (`BEHIND_PUSH`), so whoever pushes a pull update can only choose among prints no
    /// older than what the push feeds already show.
    function _readAll(uint256 marketId) internal view returns (Reading[] memory readings) {
        StoredSource[] storage sources = _sources[marketId];
        readings = new Reading[](sources.length);
        uint256 newestPushAt;
        for (uint256 i = 0; i < sources.length; i++) {
            readings[i] = _read(marketId, i, sources[i]);
            if (readings[i].reason != OK || readings[i].kind != SourceKind.Chainlink) continue;
            if (readings[i].observedAt > newestPushAt) newestPushAt = readings[i].observedAt;
        }
        uint256 tolerance = _params[marketId].pullLagTolerance;
        for (uint256 i = 0; i < readings.length; i++) {
            Reading memory r = readings[i];
            if (r.reason != OK || r.kind != SourceKind.Pyth) continue;
            if (r.observedAt + tolerance < newestPushAt) {
                r.reason = BEHIND_PUSH;
                r.newestPushAt = newestPushAt;
            }
        }
    }

    /// @dev A pinned fill's Chainlink source: its first round by round id with `updatedAt >=
    /// readyAt`, the round before it older. `hint` 0: walk back from the latest round (at most
    /// MAX_ROUND_WALK rounds); else the keeper's round, checked. A round whose aggregator part
    /// (the low 64 bits of a proxy round id) is 1 starts a phase: its predecessor lives in another
    /// aggregator, so it is refused (`PhaseStartRound`). No round at or after readyAt yet, or a
    /// source that reverts: not present. The round's answer is validated like a live one's.
    function _pinnedRound(uint256 marketId, uint256 index, StoredSource memory source, uint256 readyAt, uint80 hint)
        internal
        view
        returns (Reading memory r)
    {
        r.reason = REVERTED;
        (bool ok, uint256 roundId, int256 answer, uint256 updatedAt) = _roundOf(source.feed, hint, hint == 0);
        // A round the keeper names must exist: naming a bad one cannot leave a source out.
        if (!ok && hint != 0) revert BadRoundHint(marketId, index, hint);
        if (!ok) return r;
        if (updatedAt < readyAt) {
            if (hint != 0) revert BadRoundHint(marketId, index, hint);
            r.reason = STALE; // nothing at or after readyAt yet
            return r;
        }
        for (uint256 k = 0; k <= MAX_ROUND_WALK; k++) {
            // Round 1 of a feed that is no proxy (phase 0) has no predecessor: it is the first.
            if (roundId == 1) {
                r.reason = OK;
                break;
            }
            if (uint64(roundId) <= 1) revert PhaseStartRound(marketId, index, roundId);
            (bool okPrevious,,, uint256 previousAt) = _roundOf(source.feed, uint80(roundId - 1), false);
            if (!okPrevious && hint != 0) revert BadRoundHint(marketId, index, hint);
            if (!okPrevious) return r;
            if (previousAt < readyAt) {
                r.reason = OK;
                break;
            }
            if (hint != 0) revert BadRoundHint(marketId, index, hint);
            roundId--;
            updatedAt = previousAt;
        }
        if (r.reason != OK) revert RoundWalkTooLong(marketId, index);
        (,, answer,) = _roundOf(source.feed, uint80(roundId), false);
        r.answer = answer;
        r.observedAt = updatedAt;
        r.reason = _validPinned(r, source);
        if (r.reason == OK) r.wad = _scaleToWadDown(uint256(answer), source.decimals);
    }

    /// @dev `latestRoundData()` (latest) or `getRoundData(roundId)`, read like a live source.
    function _roundOf(address feed, uint80 roundId, bool latest)
        internal
        view
        returns (bool ok, uint256 id, int256 answer, uint256 updatedAt)
    {
        uint256[CHAINLINK_WORDS] memory words;
        uint256 size;
        bytes memory data = latest
            ? abi.encodeCall(AggregatorV3Interface.latestRoundData, ())
            : abi.encodeCall(AggregatorV3Interface.getRoundData, (roundId));
        (ok, size) = _staticcallWords(feed, data, words);
        ok = ok && size >= CHAINLINK_WORDS * 32;
        return (ok, words[0], int256(words[1]), words[3]);
    }

    /// @dev A pinned observation's checks: positive, not in the future, at most MAX_PRICE_LIMIT and
    /// non-zero once scaled (its age is the window's business).
    function _validPinned(Reading memory r, StoredSource memory source) internal view returns (uint8) {
        if (r.answer <= 0) return NON_POSITIVE;
        if (r.observedAt > block.timestamp) return FUTURE;
        if (_exceedsPriceLimit(uint256(r.answer), source.decimals)) return ABSURD;
        if (_scaleToWadDown(uint256(r.answer), source.decimals) == 0) return SCALES_TO_ZERO;
        return OK;
    }

    /// @dev A pinned fill's pull source: the keeper's signed update with `publishTime` in
    /// `[readyAt, readyAt + pullFillWindow]` (`parsePriceFeedUpdates`, its fee paid from the value
    /// left), or without update data the stored print if it lies in that range. Exponent and
    /// confidence checked as live; no such print: not present.
    function _pinnedPull(
        uint256 marketId,
        uint256 index,
        StoredSource memory source,
        uint256 readyAt,
        uint256 pullFillWindow,
        bytes[] calldata pullUpdates,
        uint256 value
    ) internal returns (Reading memory r, uint256 fee) {
        r.reason = STALE;
        bytes32 id = _priceIds[marketId][index];
        PythStructs.Price memory p;
        if (pullUpdates.length == 0) {
            uint256[CHAINLINK_WORDS] memory words;
            (bool ok, uint256 size) = _staticcallWords(source.feed, abi.encodeCall(IPyth.getPriceUnsafe, (id)), words);
            if (!ok || size < PYTH_WORDS * 32) return (r, 0);
            if (words[3] < readyAt || words[3] > readyAt + pullFillWindow) return (r, 0);
            p = IPyth(source.feed).getPriceUnsafe(id);
        } else {
            fee = IPyth(source.feed).getUpdateFee(pullUpdates);
            if (fee > value) revert InsufficientUpdateFee(fee, value);
            bytes32[] memory ids = new bytes32[](1);
            ids[0] = id;
            uint64 minTime = uint64(readyAt);
            uint64 maxTime = uint64(readyAt + pullFillWindow);
            try IPyth(source.feed).parsePriceFeedUpdates{value: fee}(pullUpdates, ids, minTime, maxTime) returns (
                PythStructs.PriceFeed[] memory feeds
            ) {
                p = feeds[0].price;
            } catch {
                return (r, fee);
            }
        }
        r.answer = p.price;
        r.conf = p.conf;
        r.expo = p.expo;
        r.observedAt = p.publishTime;
        r.reason = _validPinned(r, source);
        if (r.reason == OK && r.expo != -int32(uint32(source.decimals))) r.reason = BAD_EXPONENT;
        if (r.reason == OK && _confidenceTooWide(marketId, r)) r.reason = WIDE_CONFIDENCE;
        if (r.reason == OK) r.wad = _scaleToWadDown(uint256(r.answer), source.decimals);
    }

    /// @dev The lower median of the pinned observations, at least `quorum` of them within the
    /// spread (`SpreadTooWide`), at most the sanity bound (`PriceAboveBound`); with the newest
    /// agreeing observation's time.
    function _pinnedMedian(uint256 marketId, uint256[] memory wads, uint256[] memory times, uint256 n, uint256 quorum)
        internal
        view
        returns (uint256 mark, uint256 newestAt)
    {
        mark = _lowerMedian(wads, n);
        uint256 maxSpreadBps = _params[marketId].maxSpreadBps;
        uint256 agreeing;
        for (uint256 i = 0; i < n; i++) {
            uint256 distance = wads[i] > mark ? wads[i] - mark : mark - wads[i];
            if (distance * BPS > mark * maxSpreadBps) continue;
            if (times[i] > newestAt) newestAt = times[i];
            agreeing++;
        }
        if (agreeing < quorum) revert SpreadTooWide(marketId, mark, agreeing, quorum);
        uint256 maxPrice = _maxPrice(marketId);
        if (mark > maxPrice) revert PriceAboveBound(marketId, mark, maxPrice);
    }

    /// @dev Step 6: no band, no accepted mark yet, the accepted mark older than the window, a mark
    /// within the band, or one confirmed by a pending mark beyond the band on the same side that
    /// was observed before this one.
    function _passesBand(uint256 marketId, Evaluation memory e) internal view returns (bool) {
        StoredParams storage params = _params[marketId];
        Mark storage last = _marks[marketId];
        if (params.bandBps == 0 || last.price == 0) return true;
        if (block.timestamp - last.acceptedAt > params.bandWindow) return true;
        uint256 distance = e.mark > last.price ? e.mark - last.price : last.price - e.mark;
        if (distance * BPS <= last.price * params.bandBps) return true;
        if (last.pendingPrice == 0) return false;
        if ((last.pendingPrice > last.price) != (e.mark > last.price)) return false;
        return e.newestAt > last.pendingObservedAt;
    }

    /// @dev One source, validated in the documented order; never reverts because of the source: a
    /// call that reverts or runs out of its SOURCE_READ_GAS, short return data, an exponent outside
    /// int32 or an answer beyond MAX_PRICE_LIMIT once scaled leave it out. Every return word is
    /// read as a full word (no abi.decode range check can revert).
    function _read(uint256 marketId, uint256 index, StoredSource storage stored)
        internal
        view
        returns (Reading memory r)
    {
        StoredSource memory source = stored;
        r.maxAge = source.maxAge;
        r.feed = source.feed;
        r.kind = source.kind;
        bool ok;
        uint256[CHAINLINK_WORDS] memory words;
        if (source.kind == SourceKind.Chainlink) {
            (ok, r.size) = _staticcallWords(source.feed, abi.encodeCall(AggregatorV3Interface.latestRoundData, ()), words);
        } else {
            bytes memory data = abi.encodeCall(IPyth.getPriceUnsafe, (_priceIds[marketId][index]));
            (ok, r.size) = _staticcallWords(source.feed, data, words);
        }
        if (!ok) {
            r.reason = REVERTED;
            return r;
        }
        if (source.kind == SourceKind.Chainlink) {
            if (r.size < CHAINLINK_WORDS * 32) r.reason = MALFORMED;
            r.answer = int256(words[1]);
            r.observedAt = words[3];
        } else {
            int256 expo = int256(words[2]);
            if (r.size < PYTH_WORDS * 32 || expo < type(int32).min || expo > type(int32).max) r.reason = MALFORMED;
            else r.expo = int32(expo);
            r.answer = int256(words[0]);
            r.conf = words[1];
            r.observedAt = words[3];
        }
        if (r.reason != OK) return r;

        if (r.answer <= 0) r.reason = NON_POSITIVE;
        else if (r.observedAt == 0) r.reason = NO_TIMESTAMP;
        else if (r.observedAt > block.timestamp) r.reason = FUTURE;
        else if (block.timestamp - r.observedAt > r.maxAge) r.reason = STALE;
        else if (source.kind == SourceKind.Pyth && r.expo != -int32(uint32(source.decimals))) r.reason = BAD_EXPONENT;
        else if (_exceedsPriceLimit(uint256(r.answer), source.decimals)) r.reason = ABSURD;
        else if (source.kind == SourceKind.Pyth && _confidenceTooWide(marketId, r)) r.reason = WIDE_CONFIDENCE;
        if (r.reason != OK) return r;

        r.wad = _scaleToWadDown(uint256(r.answer), source.decimals);
        // A tiny answer of a feed with more than 18 decimals can round to 0: never a zero price.
        if (r.wad == 0) r.reason = SCALES_TO_ZERO;
    }

    /// @dev `staticcall` of `target` with at most SOURCE_READ_GAS, copying at most the first
    /// CHAINLINK_WORDS words of its return data into `words` (no return-data bomb): whether it
    /// succeeded, and the size of what it returned. A failure because THIS call was short of gas
    /// (the 63/64 rule left the source less than its cap, which it used up) is not the source's
    /// fault: it reverts `SourceReadOutOfGas`, so no caller can leave a healthy source out by
    /// starving it.
    function _staticcallWords(address target, bytes memory data, uint256[CHAINLINK_WORDS] memory words)
        internal
        view
        returns (bool ok, uint256 size)
    {
        uint256 gasCap = SOURCE_READ_GAS;
        assembly ("memory-safe") {
            ok := staticcall(gasCap, target, add(data, 0x20), mload(data), words, mul(CHAINLINK_WORDS, 0x20))
            size := returndatasize()
        }
        if (!ok && gasleft() < SOURCE_READ_GAS / 63) revert SourceReadOutOfGas(target);
    }

    /// @dev A Pyth confidence interval wider than `maxConfBps` of the price (same exponent: compared
    /// as they are; 0 = no limit). `conf` is a full word: a product that would overflow is too wide.
    function _confidenceTooWide(uint256 marketId, Reading memory r) internal view returns (bool) {
        uint256 maxConfBps = _params[marketId].maxConfBps;
        if (maxConfBps == 0) return false;
        if (r.conf > type(uint256).max / BPS) return true;
        return r.conf * BPS > uint256(r.answer) * maxConfBps;
    }

    /// @dev Whether `answer` scaled to WAD would exceed MAX_PRICE_LIMIT (exact, no overflow:
    /// `answer * 10**k > L` iff `answer > L / 10**k` for integers).
    function _exceedsPriceLimit(uint256 answer, uint8 decimals) internal pure returns (bool) {
        if (decimals <= WAD_DECIMALS) return answer > MAX_PRICE_LIMIT / 10 ** (WAD_DECIMALS - uint256(decimals));
        return answer / 10 ** (uint256(decimals) - WAD_DECIMALS) > MAX_PRICE_LIMIT;
    }

    function _revertRejected(uint256 marketId, Reading memory r) internal view {
        if (r.reason == REVERTED) revert SourceReverted(marketId, r.feed);
        if (r.reason == MALFORMED) revert MalformedAnswer(marketId, r.feed, r.size);
        if (r.reason == NON_POSITIVE || r.reason == SCALES_TO_ZERO || r.reason == ABSURD) {
            revert InvalidAnswer(marketId, r.answer);
        }
        if (r.reason == WIDE_CONFIDENCE) revert ConfidenceTooWide(marketId, r.conf, r.answer);
        if (r.reason == BEHIND_PUSH) revert PullPriceBehindPush(marketId, r.observedAt, r.newestPushAt);
        if (r.reason == NO_TIMESTAMP) revert MissingTimestamp(marketId);
        if (r.reason == FUTURE) revert FutureTimestamp(marketId, r.observedAt, block.timestamp);
        if (r.reason == STALE) revert StalePrice(marketId, r.observedAt, block.timestamp, r.maxAge);
        revert UnexpectedExponent(marketId, r.expo);
    }

    /// @dev Chainlink: `feed.decimals()` (at most 36). Pyth: `-expo` of the id's current price
    /// (the id must exist: MockPyth and Pyth revert `PriceFeedNotFound` otherwise).
    function _decimalsOf(SourceSpec calldata spec) internal view returns (uint8) {
        if (spec.kind == SourceKind.Chainlink) {
            uint8 decimals = AggregatorV3Interface(spec.feed).decimals();
            if (decimals > MAX_FEED_DECIMALS) revert UnsupportedFeedDecimals(decimals);
            return decimals;
        }
        int32 expo = IPyth(spec.feed).getPriceUnsafe(spec.priceId).expo;
        if (expo > 0 || expo < -int32(uint32(MAX_FEED_DECIMALS))) revert UnsupportedExponent(expo);
        return uint8(uint32(-expo));
    }

    /// @dev The element at index (n - 1) / 2 of the first `n` values sorted ascending (insertion
    /// sort of a copy: n is at most MAX_SOURCES, and `values` stays aligned with the times).
    function _lowerMedian(uint256[] memory unsorted, uint256 n) internal pure returns (uint256) {
        uint256[] memory values = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            values[i] = unsorted[i];
        }
        for (uint256 i = 1; i < n; i++) {
            uint256 value = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > value) {
                values[j] = values[j - 1];
                j--;
            }
            values[j] = value;
        }
        return values[(n - 1) / 2];
    }

    /// @dev Chainlink L2 uptime feed: answer 0 = up, 1 = down; `startedAt` is when the status last
    /// changed, and 0 only for a round that does not exist. Off when no sequencer feed is set. A
    /// sequencer feed that reverts or answers short counts as down.
    function _checkSequencer() internal view {
        AggregatorV3Interface sequencer = sequencerFeed;
        if (address(sequencer) == address(0)) return;

        (bool ok, int256 status, uint256 startedAt) = _readSequencer(sequencer);
        if (!ok || status != 0 || startedAt == 0) revert SequencerDown();
        // A restart dated after this block counts as still in its grace period (not an underflow panic).
        if (startedAt > block.timestamp || block.timestamp - startedAt <= sequencerGracePeriod) {
            revert SequencerGracePeriod(startedAt, block.timestamp, sequencerGracePeriod);
        }
    }

    /// @dev `_checkSequencer` as a boolean, for `markStatus`.
    function _sequencerUp() internal view returns (bool) {
        AggregatorV3Interface sequencer = sequencerFeed;
        if (address(sequencer) == address(0)) return true;

        (bool ok, int256 status, uint256 startedAt) = _readSequencer(sequencer);
        if (!ok || status != 0 || startedAt == 0) return false;
        return startedAt <= block.timestamp && block.timestamp - startedAt > sequencerGracePeriod;
    }

    /// @dev The uptime feed's (answer, startedAt); `ok` false when it reverted or answered short.
    function _readSequencer(AggregatorV3Interface sequencer)
        internal
        view
        returns (bool ok, int256 status, uint256 startedAt)
    {
        uint256[CHAINLINK_WORDS] memory words;
        uint256 size;
        (ok, size) =
            _staticcallWords(address(sequencer), abi.encodeCall(AggregatorV3Interface.latestRoundData, ()), words);
        ok = ok && size >= CHAINLINK_WORDS * 32;
        return (ok, int256(words[1]), words[2]);
    }

    /// @dev Up to 18 decimals the scaling is exact (an answer that would exceed MAX_PRICE_LIMIT was
    /// left out before). Above 18 it divides and rounds down, dropping digits finer than 1e-18 USD.
    function _scaleToWadDown(uint256 answer, uint8 decimals) internal pure returns (uint256) {
        if (decimals <= WAD_DECIMALS) return answer * 10 ** (WAD_DECIMALS - uint256(decimals));
        return answer / 10 ** (uint256(decimals) - WAD_DECIMALS);
    }
}
