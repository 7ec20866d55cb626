/* Generated from docs/schema/protocol.schema.json by clients/js/scripts/generate-types.mjs
 * (json-schema-to-typescript): do not edit; run `make schema`.
 *
 * Every wire message of the Tablium protocol, one msgpack map per websocket frame. Fields
 * marked optional have a default: a client may leave them out of a request; the server always
 * sends them. */

/** Any frame of either direction. */
export type TabliumFrame = Request | ServerMessage;
export type Request =
  | Hello
  | Register
  | Login
  | GuestLogin
  | Authenticate
  | Ping
  | Logout
  | WalletBalance
  | WalletHistory
  | WalletTransfer
  | WalletDeposit
  | WalletWithdraw
  | GetWithdrawal
  | ListWithdrawals
  | WalletStatement
  | ClaimPlayChips
  | GetLimits
  | SetLimits
  | SelfExclude
  | ListTables
  | SubscribeLobby
  | UnsubscribeLobby
  | QuickSeat
  | JoinTable
  | JoinWaitList
  | LeaveWaitList
  | TopUp
  | SitOut
  | PostMissedBlinds
  | WaitForBigBlind
  | LeaveTable
  | Watch
  | Unwatch
  | Act
  | SetClientSeed
  | MyHands
  | MyHand
  | ClubCreate
  | ClubFind
  | ClubJoin
  | ClubListMine
  | ClubGet
  | ClubMembers
  | ClubInvite
  | ClubInvitations
  | ClubAnswerInvitation
  | ClubJoinRequests
  | ClubReviewRequest
  | ClubMemberAction
  | ClubSetRole
  | ClubSetAgent
  | ClubLeave
  | ClubTransferOwnership
  | ClubUpdate
  | ClubSetTiers
  | ClubRegisterTable
  | ClubCreateTable
  | ClubCloseTable
  | ClubCreateTournament
  | ClubStatsRequest
  | RakebackStatementRequest
  | RakebackTiersRequest
  | GetProfile
  | UpdateProfile
  | GetPreferences
  | SetPreferences
  | GetPlayerStats
  | GetLeaderboard
  | ListTournaments
  | SubscribeTournaments
  | UnsubscribeTournaments
  | GetTournament
  | RegisterTournament
  | UnregisterTournament
  | TournamentRebuy
  | DeclineTournamentRebuy
  | TournamentAddOn
  | GetTournamentStandings
  | ProposeTournamentDeal
  | VoteTournamentDeal;
export type ServerMessage =
  | Welcome
  | LoggedIn
  | Pong
  | Ok
  | Error
  | Balance
  | HistoryPage
  | TransferResult
  | Statement
  | Limits
  | DepositAddress
  | Withdrawal
  | WithdrawalPage
  | TableList
  | Seated
  | LeftTable
  | HandsPage
  | HandHistory
  | ClubInfo
  | ClubJoined
  | ClubList
  | ClubDetail
  | ClubMemberPage
  | ClubMember
  | ClubInvitationList
  | ClubJoinRequestList
  | ClubTableCreated
  | ClubTableClosed
  | ClubTournamentCreated
  | ClubStats
  | RakebackStatement
  | RakebackTiers
  | Profile
  | PreferencesReply
  | PlayerStats
  | Leaderboard
  | TournamentList
  | TournamentDetails
  | TournamentRegistered
  | TournamentStandings
  | Event;
export type Reply =
  | Welcome
  | LoggedIn
  | Pong
  | Ok
  | Error
  | Balance
  | HistoryPage
  | TransferResult
  | Statement
  | Limits
  | DepositAddress
  | Withdrawal
  | WithdrawalPage
  | TableList
  | Seated
  | LeftTable
  | HandsPage
  | HandHistory
  | ClubInfo
  | ClubJoined
  | ClubList
  | ClubDetail
  | ClubMemberPage
  | ClubMember
  | ClubInvitationList
  | ClubJoinRequestList
  | ClubTableCreated
  | ClubTableClosed
  | ClubTournamentCreated
  | ClubStats
  | RakebackStatement
  | RakebackTiers
  | Profile
  | PreferencesReply
  | PlayerStats
  | Leaderboard
  | TournamentList
  | TournamentDetails
  | TournamentRegistered
  | TournamentStandings;
export type PushBody =
  | Notice
  | SessionState
  | LobbyTableChanged
  | LobbyTableRemoved
  | TableSnapshot
  | SeatChanged
  | SeatAvailable
  | DealCommitment
  | HandStarted
  | BlindPosted
  | HoleCards
  | ActionRequired
  | TimeBankStarted
  | ActionTaken
  | UncalledBetReturned
  | BoardDealt
  | PotsChanged
  | RunItTwiceOffered
  | RunItTwiceDecided
  | Showdown
  | PotAwarded
  | HandEnded
  | HandVoided
  | TableStatusChanged
  | LevelUp
  | AchievementEarned
  | TournamentLobbyChanged
  | TournamentLobbyRemoved
  | TournamentStateChanged
  | TournamentSeated
  | TournamentMoved
  | TournamentRebuyOffered
  | TournamentEliminated
  | TournamentPlaced
  | TournamentPaid
  | TournamentDealProposed
  | TournamentDealDecided;
export type GameRequest =
  | ListTables
  | SubscribeLobby
  | UnsubscribeLobby
  | QuickSeat
  | JoinTable
  | JoinWaitList
  | LeaveWaitList
  | TopUp
  | SitOut
  | PostMissedBlinds
  | WaitForBigBlind
  | LeaveTable
  | Watch
  | Unwatch
  | Act
  | SetClientSeed;
export type GameReply = TableList | Seated | LeftTable;
export type GamePush =
  | LobbyTableChanged
  | LobbyTableRemoved
  | TableSnapshot
  | SeatChanged
  | SeatAvailable
  | DealCommitment
  | HandStarted
  | BlindPosted
  | HoleCards
  | ActionRequired
  | TimeBankStarted
  | ActionTaken
  | UncalledBetReturned
  | BoardDealt
  | PotsChanged
  | RunItTwiceOffered
  | RunItTwiceDecided
  | Showdown
  | PotAwarded
  | HandEnded
  | HandVoided
  | TableStatusChanged;

/**
 * The protocol's unions by name (protocol/messages.py, protocol/game.py).
 */
export interface ProtocolUnions {
  Request: Request;
  ServerMessage: ServerMessage;
  Reply: Reply;
  PushBody: PushBody;
  GameRequest: GameRequest;
  GameReply: GameReply;
  GamePush: GamePush;
}
/**
 * First message of every connection: the versions the client speaks.
 */
export interface Hello {
  type: "hello";
  id: number;
  /**
   * @minItems 1
   * @maxItems 8
   */
  versions: [number, ...number[]];
  client?: string;
}
/**
 * Create a player account and log this connection in as it.
 */
export interface Register {
  type: "register";
  id: number;
  name: string;
  password: string;
}
export interface Login {
  type: "login";
  id: number;
  name: string;
  password: string;
}
/**
 * Log in as a fresh guest player (only when the server allows guests).
 */
export interface GuestLogin {
  type: "guest_login";
  id: number;
}
/**
 * Log in with a token from an earlier login; with ``last_seq``, also resume its session
 *     and receive every event after that seq.
 */
export interface Authenticate {
  type: "authenticate";
  id: number;
  token: string;
  last_seq?: number;
}
/**
 * A no-op round trip (liveness checks, latency, benchmarks).
 */
export interface Ping {
  type: "ping";
  id: number;
}
/**
 * End the session now: no grace period, seats are released, the connection closes.
 */
export interface Logout {
  type: "logout";
  id: number;
}
export interface WalletBalance {
  type: "wallet_balance";
  id: number;
  asset?: "chips" | "play";
}
/**
 * One page of the player's transfers, newest first; ``before_id`` pages back.
 */
export interface WalletHistory {
  type: "wallet_history";
  id: number;
  before_id?: number | null;
  limit?: number;
  asset?: "chips" | "play";
}
/**
 * Move chips to another player. ``key`` makes a retry safe: the same key and content
 *     return the first result instead of moving the chips twice.
 */
export interface WalletTransfer {
  type: "wallet_transfer";
  id: number;
  to_player: string;
  amount: number;
  key: string;
  memo?: string;
}
/**
 * Ask how to deposit: the reply is DepositAddress, the blockchain cashier's contract and
 *     this player's deposit reference (the same every time). What arrives on chain is credited
 *     at the confirmation line (docs/chain.md). ``amount``, ``key`` and ``memo`` are not used
 *     (what counts is what arrives); they are accepted so that older clients' frames decode.
 *     Refused: cashier_unavailable (no cashier on this server), self_excluded, cooling_off.
 *     ``chain_id``: which chain's cashier (null: the server's first); unknown_chain if none.
 */
export interface WalletDeposit {
  type: "wallet_deposit";
  id: number;
  amount?: number | null;
  key?: string | null;
  memo?: string;
  chain_id?: number | null;
}
/**
 * Withdraw ``amount`` chips to the chain address ``address``: reserved at once, paid in
 *     a batch (large ones after a staff approval). Reply: Withdrawal. ``key`` makes a retry
 *     safe. Refused: cashier_unavailable, invalid_address, invalid_amount (worth no token
 *     unit), insufficient_funds, withdrawal_refused (a retry of one refused the first time),
 *     idempotency_conflict, unknown_chain. ``chain_id``: which chain pays (null: the server's
 *     first).
 */
export interface WalletWithdraw {
  type: "wallet_withdraw";
  id: number;
  amount: number;
  key: string;
  address: string;
  chain_id?: number | null;
}
/**
 * One of this player's withdrawals, as it stands. Reply: Withdrawal. Refused:
 *     cashier_unavailable, unknown_withdrawal (none of that id is this player's).
 */
export interface GetWithdrawal {
  type: "get_withdrawal";
  id: number;
  withdrawal_id: number;
}
/**
 * This player's withdrawals, newest first: ``limit`` at most, those with an id below
 *     ``before_id`` when given (the previous page's ``next_before_id``), only those in ``state``
 *     when given, only those on ``chain_id`` when given (else every chain). Reply:
 *     WithdrawalPage. Refused: cashier_unavailable, unknown_chain.
 */
export interface ListWithdrawals {
  type: "list_withdrawals";
  id: number;
  state?:
    | (
        | "awaiting_approval"
        | "batched"
        | "paid"
        | "queued"
        | "refused"
        | "rejected"
        | "requested"
        | "voided"
      )
    | null;
  before_id?: number | null;
  limit?: number;
  chain_id?: number | null;
}
/**
 * The player's statement for [from_ms, to_ms) (at most a year): opening and closing
 *     balance, totals by kind, and the entries posted in it, ``limit`` at a time after
 *     ``after_id``.
 */
export interface WalletStatement {
  type: "wallet_statement";
  id: number;
  from_ms: number;
  to_ms: number;
  asset?: "chips" | "play";
  after_id?: number | null;
  limit?: number;
}
/**
 * A play-money refill, for a play balance below the server's threshold, once per period.
 *     Reply: TransferResult.
 */
export interface ClaimPlayChips {
  type: "claim_play_chips";
  id: number;
}
/**
 * The player's responsible-gaming limits and exclusion. Reply: Limits.
 */
export interface GetLimits {
  type: "get_limits";
  id: number;
}
/**
 * Change limits: each named limit to the value given (null: no limit). Lowering takes
 *     effect at once, raising (or removing) after 24 hours. Reply: Limits.
 */
export interface SetLimits {
  type: "set_limits";
  id: number;
  changes: {
    [k: string]: number | null;
  };
}
/**
 * A cool-off (1-42 days) or a self-exclusion (183-3653 days) from real-money play, from
 *     now; neither can be shortened. Reply: Limits.
 */
export interface SelfExclude {
  type: "self_exclude";
  id: number;
  kind: "cool_off" | "self_exclusion";
  days: number;
}
export interface ListTables {
  type: "list_tables";
  id: number;
  filter?: LobbyFilter;
}
/**
 * Empty fields match everything.
 */
export interface LobbyFilter {
  variant?: ("FT" | "NT" | "PO" | "PO/8" | "PT") | null;
  big_blind?: number | null;
  asset?: ("chips" | "play") | null;
}
/**
 * Reply: TableList now; then LobbyTableChanged / LobbyTableRemoved pushes.
 */
export interface SubscribeLobby {
  type: "subscribe_lobby";
  id: number;
  filter?: LobbyFilter;
}
export interface UnsubscribeLobby {
  type: "unsubscribe_lobby";
  id: number;
}
/**
 * Seat me at any table of this game, stakes and asset (real money unless ``play``); the
 *     lobby opens a table when all are full. ``club_id``: only that club's tables (members
 *     only: ``not_club_member``; a club's tables are opened by its managers, so when all are
 *     full the answer is ``table_full``); None: only public tables. Reply: Seated.
 */
export interface QuickSeat {
  type: "quick_seat";
  id: number;
  variant: "FT" | "NT" | "PO" | "PO/8" | "PT";
  big_blind: number;
  buy_in: number;
  asset?: "chips" | "play";
  club_id?: number | null;
}
/**
 * Sit down with ``buy_in`` from the wallet. ``seat`` None: any free seat.
 *     ``post_to_enter``: post a big blind to be dealt in before the big blind reaches me.
 */
export interface JoinTable {
  type: "join_table";
  id: number;
  table_id: string;
  buy_in: number;
  seat?: number | null;
  post_to_enter?: boolean;
}
export interface JoinWaitList {
  type: "join_wait_list";
  id: number;
  table_id: string;
}
export interface LeaveWaitList {
  type: "leave_wait_list";
  id: number;
  table_id: string;
}
/**
 * Add chips from the wallet; during a hand they arrive when it ends.
 */
export interface TopUp {
  type: "top_up";
  id: number;
  table_id: string;
  amount: number;
}
export interface SitOut {
  type: "sit_out";
  id: number;
  table_id: string;
}
/**
 * Sit in and post what I owe to be dealt in the next hand.
 */
export interface PostMissedBlinds {
  type: "post_missed_blinds";
  id: number;
  table_id: string;
}
/**
 * Sit in and wait for the big blind to reach me (nothing owed is posted).
 */
export interface WaitForBigBlind {
  type: "wait_for_big_blind";
  id: number;
  table_id: string;
}
/**
 * Stand up and cash out (after the current hand when I am in it). Reply: LeftTable.
 */
export interface LeaveTable {
  type: "leave_table";
  id: number;
  table_id: string;
}
/**
 * Spectate. Reply: Ok, then a TableSnapshot push and the table's public pushes.
 */
export interface Watch {
  type: "watch";
  id: number;
  table_id: string;
}
export interface Unwatch {
  type: "unwatch";
  id: number;
  table_id: string;
}
/**
 * A decision in hand ``hand_number``. ``decision_id``: the ``action_required`` this
 *     answers; an answer to one that is no longer current is refused (``stale_decision``) and
 *     never applied to a later one. Optional for version 1 clients: without it the act goes to
 *     the current decision. ``amount``: bet_or_raise_to only (the street total); ``agree``:
 *     run_it_twice only.
 */
export interface Act {
  type: "act";
  id: number;
  table_id: string;
  hand_number: number;
  action: "bet_or_raise_to" | "check_or_call" | "fold" | "muck" | "run_it_twice" | "show";
  amount?: number;
  agree?: boolean;
  decision_id?: number | null;
}
/**
 * My entropy for the deals at this table (docs/fairness.md): 1..64 bytes as hex. It
 *     applies from the next hand dealt after the reply (a hand already dealt keeps the seeds it
 *     was dealt with) until I send another or leave the seat. Reply: Ok; ``not_seated``.
 */
export interface SetClientSeed {
  type: "set_client_seed";
  id: number;
  table_id: string;
  seed: string;
}
/**
 * A page of the hands I was dealt into, newest first; ``before_seq`` pages back (the
 *     ``next_before_seq`` of the previous page).
 */
export interface MyHands {
  type: "my_hands";
  id: number;
  before_seq?: number | null;
  limit?: number;
}
/**
 * One hand I was dealt into, as a PHH file (the default) or a text history.
 */
export interface MyHand {
  type: "my_hand";
  id: number;
  hand_id: string;
  format?: "phh" | "text";
}
export interface ClubCreate {
  type: "club_create";
  id: number;
  name: string;
  description?: string;
  join_policy?: "approval" | "invitation" | "open";
}
/**
 * A club by its code (any case): what anyone who has the code sees.
 */
export interface ClubFind {
  type: "club_find";
  id: number;
  code: string;
}
/**
 * Join by code: at once (open), a join request (approval), or with an invitation.
 */
export interface ClubJoin {
  type: "club_join";
  id: number;
  code: string;
  agent_id?: number | null;
}
export interface ClubListMine {
  type: "club_list_mine";
  id: number;
}
export interface ClubGet {
  type: "club_get";
  id: number;
  club_id: number;
}
export interface ClubMembers {
  type: "club_members";
  id: number;
  club_id: number;
  after_player?: number | null;
  limit?: number;
}
export interface ClubInvite {
  type: "club_invite";
  id: number;
  club_id: number;
  player_id: number;
}
/**
 * Invitations waiting for my answer.
 */
export interface ClubInvitations {
  type: "club_invitations";
  id: number;
}
export interface ClubAnswerInvitation {
  type: "club_answer_invitation";
  id: number;
  club_id: number;
  accept: boolean;
}
export interface ClubJoinRequests {
  type: "club_join_requests";
  id: number;
  club_id: number;
}
export interface ClubReviewRequest {
  type: "club_review_request";
  id: number;
  club_id: number;
  player_id: number;
  approve: boolean;
}
/**
 * Remove a member, ban a player (she cannot rejoin), or lift a ban.
 */
export interface ClubMemberAction {
  type: "club_member_action";
  id: number;
  club_id: number;
  player_id: number;
  action: "ban" | "remove" | "unban";
}
export interface ClubSetRole {
  type: "club_set_role";
  id: number;
  club_id: number;
  player_id: number;
  role: "agent" | "manager" | "member";
  commission_bp?: number;
}
export interface ClubSetAgent {
  type: "club_set_agent";
  id: number;
  club_id: number;
  player_id: number;
  agent_id: number | null;
}
export interface ClubLeave {
  type: "club_leave";
  id: number;
  club_id: number;
}
export interface ClubTransferOwnership {
  type: "club_transfer_ownership";
  id: number;
  club_id: number;
  player_id: number;
}
export interface ClubUpdate {
  type: "club_update";
  id: number;
  club_id: number;
  description?: string | null;
  join_policy?: ("approval" | "invitation" | "open") | null;
}
/**
 * The members' tier table; ``tiers`` None: no member rakeback.
 */
export interface ClubSetTiers {
  type: "club_set_tiers";
  id: number;
  club_id: number;
  tiers: [TierRecord, ...TierRecord[]] | null;
  points_per_chip_num?: number;
  points_per_chip_den?: number;
}
export interface TierRecord {
  name: string;
  threshold_points: number;
  rakeback_bp: number;
}
export interface ClubRegisterTable {
  type: "club_register_table";
  id: number;
  club_id: number;
  table_id: string;
}
/**
 * Open a cash table only the club's members see and join (owner, manager). The server
 *     names it ``club<club id>-<6 characters>`` and registers it to the club (its rake is the
 *     club's); the house's rake rule applies. A 0 buy-in bound: 40 / 200 big blinds.
 *     Reply: ClubTableCreated.
 */
export interface ClubCreateTable {
  type: "club_create_table";
  id: number;
  club_id: number;
  name: string;
  variant: "FT" | "NT" | "PO" | "PO/8" | "PT";
  small_blind: number;
  big_blind: number;
  seats?: number;
  buy_in_min?: number;
  buy_in_max?: number;
  ante?: number;
  asset?: "chips" | "play";
}
/**
 * Close one of the club's tables (owner, manager) as an operator does: no new seats at
 *     once, every player stood up and cashed out after the running hand. Audited.
 *     Reply: ClubTableClosed. Refused: not_club_member, club_permission_denied,
 *     invalid_club_input (a table the club did not open), no_such_table (not open).
 */
export interface ClubCloseTable {
  type: "club_close_table";
  id: number;
  club_id: number;
  table_id: string;
}
/**
 * Create a tournament only the club's members see and register for (owner, manager),
 *     from a preset structure (docs/tournaments.md "Presets"). ``buy_in`` to the prize pool,
 *     ``fee`` to the house (the club's share of it is the club's, as rake of its tables); no
 *     guarantee. A sit-and-go starts when ``entries_max`` have registered, a multi-table one at
 *     ``starts_at_ms`` (null: when a director starts it). Reply: ClubTournamentCreated.
 *     Refused: not_club_member, club_permission_denied, club_limit_reached,
 *     structure_invalid, payout_invalid.
 */
export interface ClubCreateTournament {
  type: "club_create_tournament";
  id: number;
  club_id: number;
  name: string;
  preset: string;
  kind?: "mtt" | "sng";
  asset?: "chips" | "play";
  buy_in?: number;
  fee?: number;
  seats_per_table?: number;
  entries_min?: number;
  entries_max?: number;
  starts_at_ms?: number | null;
}
export interface ClubStatsRequest {
  type: "club_stats";
  id: number;
  club_id: number;
  period: string;
}
export interface RakebackStatementRequest {
  type: "rakeback_statement";
  id: number;
  limit?: number;
}
export interface RakebackTiersRequest {
  type: "rakeback_tiers";
  id: number;
}
/**
 * A player's public profile; without ``player_id``, the requester's own. Reply: Profile.
 */
export interface GetProfile {
  type: "get_profile";
  id: number;
  player_id?: number | null;
}
/**
 * Change the fields given (omitted: unchanged). The display name changes at most once
 *     every 30 days. Reply: Profile.
 */
export interface UpdateProfile {
  type: "update_profile";
  id: number;
  display_name?: string | null;
  avatar?: string | null;
  country?: string | null;
  bio?: string | null;
}
export interface GetPreferences {
  type: "get_preferences";
  id: number;
}
/**
 * Change the named preferences; an unknown key or a bad value refuses all of them.
 *     Reply: PreferencesReply.
 */
export interface SetPreferences {
  type: "set_preferences";
  id: number;
  changes: {
    [k: string]: boolean | number | string;
  };
}
/**
 * A player's level, XP, achievements and statistics (hidden when she keeps them
 *     private); without ``player_id``, the requester's own. Reply: PlayerStats.
 */
export interface GetPlayerStats {
  type: "get_player_stats";
  id: number;
  player_id?: number | null;
}
/**
 * The top ``limit`` of a board (``xp``, ``points``, ``net:<asset>:<game>:<stake>``) in
 *     the current UTC day, ISO week or month, and the requester's own rank. Reply: Leaderboard.
 */
export interface GetLeaderboard {
  type: "get_leaderboard";
  id: number;
  board: string;
  period?: "daily" | "monthly" | "weekly";
  limit?: number;
}
/**
 * The lobby's tournaments, newest first. Empty filters match everything; ``buy_in_min``
 *     and ``buy_in_max`` bound the whole price (buy-in + fee + bounty). Reply: TournamentList.
 */
export interface ListTournaments {
  type: "list_tournaments";
  id: number;
  state?: ("cancelled" | "finished" | "registering" | "running") | null;
  kind?: ("mtt" | "sng") | null;
  asset?: ("chips" | "play") | null;
  buy_in_min?: number | null;
  buy_in_max?: number | null;
}
/**
 * As ListTournaments, then ``tournament_lobby_changed`` pushes for every change of a
 *     matching tournament until UnsubscribeTournaments (or the session ends). Reply:
 *     TournamentList. A new subscription replaces the old one. Refused: lobby_full.
 */
export interface SubscribeTournaments {
  type: "subscribe_tournaments";
  id: number;
  state?: ("cancelled" | "finished" | "registering" | "running") | null;
  kind?: ("mtt" | "sng") | null;
  asset?: ("chips" | "play") | null;
  buy_in_min?: number | null;
  buy_in_max?: number | null;
}
/**
 * Reply: Ok.
 */
export interface UnsubscribeTournaments {
  type: "unsubscribe_tournaments";
  id: number;
}
/**
 * Reply: TournamentDetails. Refused: tournament_not_found.
 */
export interface GetTournament {
  type: "get_tournament";
  id: number;
  tournament_id: number;
}
/**
 * Register; or, once the player's earlier entries are all out and late registration
 *     is open, re-enter (a new entry, a full stack, a new random seat). The buy-in, fee and
 *     bounty leave the wallet first. Reply: TournamentRegistered. Refused:
 *     tournament_not_found, registration_refused, same_address_in_tournament (another account
 *     still in this tournament connects from the same address), insufficient_funds,
 *     self_excluded, cooling_off, ...
 */
export interface RegisterTournament {
  type: "register_tournament";
  id: number;
  tournament_id: number;
}
/**
 * Before the start only: everything paid comes back. Reply: Ok. Refused:
 *     tournament_not_found, not_registered, registration_refused (started).
 */
export interface UnregisterTournament {
  type: "unregister_tournament";
  id: number;
  tournament_id: number;
}
/**
 * A rebuy (after ``tournament_rebuy_offered``, or between hands with a short stack
 *     while rebuys are open). Reply: Ok. Refused: not_registered, rebuy_refused,
 *     insufficient_funds.
 */
export interface TournamentRebuy {
  type: "tournament_rebuy";
  id: number;
  tournament_id: number;
}
/**
 * No rebuy: the entry is out (``tournament_eliminated`` follows). Reply: Ok.
 */
export interface DeclineTournamentRebuy {
  type: "decline_tournament_rebuy";
  id: number;
  tournament_id: number;
}
/**
 * The add-on, during the first break. Reply: Ok. Refused: addon_refused.
 */
export interface TournamentAddOn {
  type: "tournament_add_on";
  id: number;
  tournament_id: number;
}
/**
 * Players still in by stack, then the placed by place. Reply: TournamentStandings.
 */
export interface GetTournamentStandings {
  type: "get_tournament_standings";
  id: number;
  tournament_id: number;
  offset?: number;
  limit?: number;
}
/**
 * At the final table once the prizes are final, between hands: propose a deal
 *     (``keep`` chips of what is left stay to be played for). Every remaining player gets
 *     ``tournament_deal_proposed``; the proposer's yes is counted. Reply: Ok. Refused:
 *     deal_refused (not the final table, a deal already proposed, keep too large...).
 */
export interface ProposeTournamentDeal {
  type: "propose_tournament_deal";
  id: number;
  tournament_id: number;
  kind: "chip_chop" | "icm";
  keep?: number;
}
/**
 * Yes or no to the deal proposed (``deal_id`` of the proposal). Reply: Ok. Refused:
 *     no_deal_proposed (none, or another id).
 */
export interface VoteTournamentDeal {
  type: "vote_tournament_deal";
  id: number;
  tournament_id: number;
  deal_id: number;
  accept: boolean;
}
/**
 * Reply to Hello: the version chosen and the limits this server enforces.
 */
export interface Welcome {
  type: "welcome";
  id: number;
  version: number;
  server: string;
  heartbeat_ms: number;
  frame_bytes_max: number;
  rate_burst_requests: number;
  rate_refill_per_s: number;
}
/**
 * Reply to Register, Login, GuestLogin and Authenticate.
 *
 *     ``resume`` says what happened to the session's events: ``new`` (a fresh session),
 *     ``complete`` (every event after last_seq follows), or ``gap`` (some are gone: a
 *     replay_gap error and the current state follow instead).
 */
export interface LoggedIn {
  type: "logged_in";
  id: number;
  token: string;
  player: string;
  role: "admin" | "director" | "player" | "support";
  session_id: string;
  expires_at_s: number;
  resume: "complete" | "gap" | "new";
  last_seq: number;
  player_id?: number | null;
  display_name?: string;
  preferences?: null | PreferencesView;
}
export interface PreferencesView {
  four_colour_deck: boolean;
  auto_muck: boolean;
  auto_post_blinds: boolean;
  sounds: boolean;
  language: string;
  time_zone: string;
  default_buy_in_bb: number;
  stats_privacy: "private" | "public";
}
export interface Pong {
  type: "pong";
  id: number;
}
/**
 * A request succeeded and has nothing to return.
 */
export interface Ok {
  type: "ok";
  id: number;
}
/**
 * A request (``id``) or frame (``id`` null when it could not be read) failed.
 */
export interface Error {
  type: "error";
  id: number | null;
  code: string;
  message?: string;
  retry_after_ms?: number | null;
}
/**
 * Reply to WalletBalance. ``available`` = ``balance`` - ``reserved`` (pending out).
 */
export interface Balance {
  type: "balance";
  id: number;
  balance: number;
  reserved: number;
  available: number;
  asset?: "chips" | "play";
}
/**
 * Reply to WalletHistory; ``next_before_id`` is null on the last page.
 */
export interface HistoryPage {
  type: "history_page";
  id: number;
  /**
   * @maxItems 200
   */
  entries: HistoryEntry[];
  next_before_id: number | null;
}
export interface HistoryEntry {
  type: "history_entry";
  transfer_id: number;
  kind: string;
  state: "pending" | "posted" | "voided";
  amount: number;
  counterparty: Account;
  memo: string;
  created_at_ms: number;
  updated_at_ms: number;
}
/**
 * A ledger account, as every surface names one (the admin and public APIs too):
 *     ``{"kind": "wallet", "owner": "42", "asset": "chips"}``, ``{"kind": "escrow", "owner":
 *     "table:nt-1-2-a", ...}``, ``{"kind": "external", "owner": "", ...}``.
 */
export interface Account {
  kind: string;
  owner: string;
  asset: "chips" | "play";
}
/**
 * Reply to WalletTransfer and ClaimPlayChips.
 */
export interface TransferResult {
  type: "transfer_result";
  id: number;
  transfer_id: number;
  state: "pending" | "posted" | "voided";
  amount: number;
  asset?: "chips" | "play";
}
/**
 * Reply to WalletStatement. ``closing_balance`` = ``opening_balance`` + the net of
 *     ``totals`` (which cover the whole period); ``next_after_id`` is null on the last page.
 */
export interface Statement {
  type: "statement";
  id: number;
  asset: "chips" | "play";
  from_ms: number;
  to_ms: number;
  opening_balance: number;
  closing_balance: number;
  /**
   * @maxItems 64
   */
  totals: StatementTotal[];
  /**
   * @maxItems 200
   */
  entries: HistoryEntry[];
  next_after_id: number | null;
}
export interface StatementTotal {
  kind: string;
  count: number;
  credited: number;
  debited: number;
}
/**
 * Reply to GetLimits, SetLimits and SelfExclude.
 */
export interface Limits {
  type: "limits";
  id: number;
  limits: LimitValues;
  /**
   * @maxItems 8
   */
  pending: PendingRaise[];
  exclusion: null | ExclusionState;
  today: Totals;
  week: Totals;
  month: Totals;
}
/**
 * Limits in force (null: none). Deposits and losses per UTC day, per 7 and 30 days.
 */
export interface LimitValues {
  daily_deposit_max?: number | null;
  weekly_deposit_max?: number | null;
  monthly_deposit_max?: number | null;
  daily_loss_max?: number | null;
  weekly_loss_max?: number | null;
  monthly_loss_max?: number | null;
  table_buy_in_max?: number | null;
  session_minutes_max?: number | null;
}
/**
 * A raise (or removal: ``value`` null) waiting its 24 hours.
 */
export interface PendingRaise {
  limit:
    | "daily_deposit_max"
    | "daily_loss_max"
    | "monthly_deposit_max"
    | "monthly_loss_max"
    | "session_minutes_max"
    | "table_buy_in_max"
    | "weekly_deposit_max"
    | "weekly_loss_max";
  value: number | null;
  effective_at_ms: number;
}
export interface ExclusionState {
  kind: "cool_off" | "self_exclusion";
  since_ms: number;
  until_ms: number;
}
/**
 * What counts against the limits (real money): deposits requested, net loss (buy-ins
 *     and fees minus what came back), sent to other players.
 */
export interface Totals {
  deposited: number;
  net_loss: number;
  transferred: number;
}
/**
 * Reply to WalletDeposit: call ``deposit(amount, reference)`` on the contract
 *     ``cashier`` on chain ``chain_id`` (after approving ``token``), or
 *     ``deposit_native(reference)`` when ``token`` is the zero address. ``rate`` is exact:
 *     chips per token unit (``"1/10000"``), rounded down.
 */
export interface DepositAddress {
  type: "deposit_address";
  id: number;
  chain_id: number;
  cashier: string;
  token: string;
  reference: string;
  rate: string;
}
/**
 * Reply to WalletWithdraw and GetWithdrawal. ``state``: ``awaiting_approval`` (staff
 *     approve large ones), ``queued``, ``batched`` (sent), ``paid``; or ``voided`` (expired or
 *     reverted: the chips are back), ``rejected`` (by staff: back too), ``refused`` (the ledger
 *     refused it: ``reason`` says why). ``units`` is the token amount paid, as a decimal string
 *     (it may exceed 64 bits).
 */
export interface Withdrawal {
  type: "withdrawal";
  id: number;
  withdrawal_id: number;
  chain_id: number;
  address: string;
  amount: number;
  units: string;
  state:
    | "awaiting_approval"
    | "batched"
    | "paid"
    | "queued"
    | "refused"
    | "rejected"
    | "requested"
    | "voided";
  transfer_id: number | null;
  reason: string;
  created_at_ms: number;
  updated_at_ms: number;
}
/**
 * Reply to ListWithdrawals, newest first; ``next_before_id`` is null on the last page.
 */
export interface WithdrawalPage {
  type: "withdrawal_page";
  id: number;
  /**
   * @maxItems 100
   */
  withdrawals: WithdrawalRecord[];
  next_before_id: number | null;
}
/**
 * One withdrawal inside a WithdrawalPage: the fields of Withdrawal without ``id``.
 */
export interface WithdrawalRecord {
  withdrawal_id: number;
  chain_id: number;
  address: string;
  amount: number;
  units: string;
  state:
    | "awaiting_approval"
    | "batched"
    | "paid"
    | "queued"
    | "refused"
    | "rejected"
    | "requested"
    | "voided";
  transfer_id: number | null;
  reason: string;
  created_at_ms: number;
  updated_at_ms: number;
}
export interface TableList {
  type: "table_list";
  id: number;
  /**
   * @maxItems 500
   */
  tables: TableListing[];
}
/**
 * One table in the lobby. ``average_pot`` and ``hands_per_hour`` cover the last hour.
 *     The stakes and rake are the ones its hands are played with: ``small_bet`` / ``big_bet``
 *     are the fixed limit bet sizes (before / from the turn; None in other games); the rake is
 *     ``rake_bp`` basis points of each pot, at most ``rake_cap`` chips a hand (0: no cap), none
 *     from a hand that ends before the flop when ``rake_no_flop_no_drop``.
 */
export interface TableListing {
  table_id: string;
  name: string;
  variant: "FT" | "NT" | "PO" | "PO/8" | "PT";
  small_blind: number;
  big_blind: number;
  buy_in_min: number;
  buy_in_max: number;
  seats_total: number;
  seats_taken: number;
  waiting: number;
  average_pot: number;
  hands_per_hour: number;
  small_bet?: number | null;
  big_bet?: number | null;
  rake_bp?: number;
  rake_cap?: number;
  rake_no_flop_no_drop?: boolean;
  asset?: "chips" | "play";
  club_id?: number | null;
}
/**
 * Reply to JoinTable and QuickSeat: where I sit and with how much.
 */
export interface Seated {
  type: "seated";
  id: number;
  table_id: string;
  seat: number;
  stack: number;
}
/**
 * Reply to LeaveTable. ``cashed_out`` None: I am in a hand; the cash-out follows it
 *     (a SeatChanged push with no player tells when).
 */
export interface LeftTable {
  type: "left_table";
  id: number;
  table_id: string;
  cashed_out: number | null;
}
/**
 * Reply to MyHands; ``next_before_seq`` is null on the last page.
 */
export interface HandsPage {
  type: "hands_page";
  id: number;
  /**
   * @maxItems 200
   */
  hands: HandSummary[];
  next_before_seq: number | null;
}
export interface HandSummary {
  seq: number;
  hand_id: string;
  table_id: string;
  game: string;
  asset: "chips" | "play";
  started_at_ms: number;
  ended_at_ms: number;
  pot_total: number;
  rake: number;
  /**
   * @maxItems 10
   */
  players: HandPlayerResult[];
}
export interface HandPlayerResult {
  player_id: number;
  seat: number;
  net: number;
  rake_paid: number;
}
/**
 * Reply to MyHand: the hand's summary and its history in the format asked for.
 */
export interface HandHistory {
  type: "hand_history";
  id: number;
  hand: HandSummary;
  format: "phh" | "text";
  history: string;
}
/**
 * Reply to club_create, club_find, club_update, club_transfer_ownership.
 */
export interface ClubInfo {
  type: "club_info";
  id: number;
  club: ClubRecord;
}
export interface ClubRecord {
  club_id: number;
  code: string;
  name: string;
  description: string;
  join_policy: "approval" | "invitation" | "open";
  members: number;
}
/**
 * Reply to club_join, club_answer_invitation (accepted) and club_review_request
 *     (approved): ``state`` "member", or "requested" (a manager approves it).
 */
export interface ClubJoined {
  type: "club_joined";
  id: number;
  state: "member" | "requested";
  member: null | MemberRecord;
}
export interface MemberRecord {
  club_id: number;
  player_id: number;
  role: "agent" | "manager" | "member" | "owner";
  agent_id: number | null;
  commission_bp: number;
  joined_at_ms: number;
}
export interface ClubList {
  type: "club_list";
  id: number;
  /**
   * @maxItems 50
   */
  clubs: MyClubRecord[];
}
export interface MyClubRecord {
  club: ClubRecord;
  role: "agent" | "manager" | "member" | "owner";
  agent_id: number | null;
}
/**
 * Reply to club_get and club_set_tiers: the club, its benefits and its tables.
 */
export interface ClubDetail {
  type: "club_detail";
  id: number;
  club: ClubRecord;
  rakeback_deal_bp: number;
  tiers: TierRecord[] | null;
  points_per_chip_num: number;
  points_per_chip_den: number;
  /**
   * @maxItems 5000
   */
  agent_rates: AgentRate[];
  /**
   * @maxItems 500
   */
  tables: string[];
}
export interface AgentRate {
  agent_id: number;
  commission_bp: number;
}
export interface ClubMemberPage {
  type: "club_member_page";
  id: number;
  /**
   * @maxItems 200
   */
  members: MemberRecord[];
}
/**
 * Reply to club_set_role and club_set_agent.
 */
export interface ClubMember {
  type: "club_member";
  id: number;
  member: MemberRecord;
}
export interface ClubInvitationList {
  type: "club_invitation_list";
  id: number;
  /**
   * @maxItems 200
   */
  invitations: InvitationRecord[];
}
export interface InvitationRecord {
  club_id: number;
  player_id: number;
  invited_by: number;
  agent_id: number | null;
  created_at_ms: number;
}
export interface ClubJoinRequestList {
  type: "club_join_request_list";
  id: number;
  /**
   * @maxItems 200
   */
  requests: JoinRequestRecord[];
}
export interface JoinRequestRecord {
  club_id: number;
  player_id: number;
  agent_id: number | null;
  created_at_ms: number;
}
/**
 * Reply to club_create_table: the table is open (listed to the club's members).
 */
export interface ClubTableCreated {
  type: "club_table_created";
  id: number;
  club_id: number;
  table_id: string;
}
/**
 * Reply to club_close_table: ``closing`` (a hand is running: it closes after it) or
 *     ``closed``.
 */
export interface ClubTableClosed {
  type: "club_table_closed";
  id: number;
  club_id: number;
  table_id: string;
  status: "closed" | "closing" | "open" | "paused";
}
/**
 * Reply to club_create_tournament: it is registering, listed to the club's members.
 */
export interface ClubTournamentCreated {
  type: "club_tournament_created";
  id: number;
  club_id: number;
  tournament_id: number;
}
export interface ClubStats {
  type: "club_stats_reply";
  id: number;
  club_id: number;
  period: string;
  members: number;
  active_players: number;
  hands: number;
  rake: number;
  rakeback_paid: number;
  commission_paid: number;
}
/**
 * My rakeback and agent commission, newest period first.
 */
export interface RakebackStatement {
  type: "rakeback_statement_reply";
  id: number;
  /**
   * @maxItems 200
   */
  lines: StatementLine[];
}
export interface StatementLine {
  scope: string;
  period: string;
  kind: "commission" | "rakeback";
  rake_cash: number;
  rake_tournament: number;
  rate_bp: number;
  accrued_cash: number;
  accrued_tournament: number;
  accrued: number;
  paid: number;
  transfer_id: number | null;
  tier: number | null;
}
/**
 * The house's tier table, its points rate, the period and the attribution method.
 */
export interface RakebackTiers {
  type: "rakeback_tiers_reply";
  id: number;
  /**
   * @maxItems 20
   */
  tiers: TierRecord[];
  points_per_chip_num: number;
  points_per_chip_den: number;
  period: "day" | "week";
  method: "dealt" | "weighted";
}
/**
 * ``account_name`` and ``display_name_change_allowed_at_ms`` only on the player's own.
 */
export interface Profile {
  type: "profile";
  id: number;
  profile: ProfileView;
  account_name?: string | null;
  display_name_change_allowed_at_ms?: number | null;
}
/**
 * A public profile. ``avatar``: ``builtin:<name>`` (ace, king, queen, jack, joker, chip,
 *     club, diamond, heart, spade) or an https URL.
 */
export interface ProfileView {
  player_id: number;
  display_name: string;
  avatar: string;
  country: string;
  bio: string;
  member_since_ms: number;
  level: number;
}
export interface PreferencesReply {
  type: "preferences";
  id: number;
  preferences: PreferencesView;
}
/**
 * ``private``: the player hides her statistics from others (``stakes`` and
 *     ``tournaments`` are then empty); level, XP and achievements are always shown.
 */
export interface PlayerStats {
  type: "player_stats";
  id: number;
  player_id: number;
  level: number;
  xp: number;
  xp_for_next_level: number | null;
  hands: number;
  private: boolean;
  /**
   * @maxItems 500
   */
  stakes: StakeFigures[];
  /**
   * @maxItems 8
   */
  tournaments: TournamentFiguresView[];
  /**
   * @maxItems 64
   */
  achievements: AchievementView[];
}
/**
 * One stake key's figures (docs/players.md); null: no hand to divide by.
 */
export interface StakeFigures {
  asset: string;
  game: string;
  stake: string;
  hands: number;
  vpip_pct: number | null;
  pfr_pct: number | null;
  three_bet_pct: number | null;
  aggression_factor: number | null;
  went_to_showdown_pct: number | null;
  won_at_showdown_pct: number | null;
  net_won: number;
  bb_per_100: number | null;
  rake_paid: number;
}
export interface TournamentFiguresView {
  asset: string;
  entries: number;
  in_the_money_pct: number | null;
  roi_pct: number | null;
  best_finish: number | null;
  prizes_won: number;
  points: number;
}
export interface AchievementView {
  code: string;
  title: string;
  earned_at_ms: number;
}
/**
 * ``period_key``: ``d2026-12-02``, ``w2026-W49`` or ``m2026-12`` (UTC). Ties rank the
 *     higher player id first. ``me``: null when the requester has no score on it.
 */
export interface Leaderboard {
  type: "leaderboard";
  id: number;
  board: string;
  period: "daily" | "monthly" | "weekly";
  period_key: string;
  /**
   * @maxItems 100
   */
  entries: RankEntry[];
  me: null | RankEntry;
}
export interface RankEntry {
  rank: number;
  player_id: number;
  display_name: string;
  score: number;
}
export interface TournamentList {
  type: "tournament_list";
  id: number;
  /**
   * @maxItems 500
   */
  tournaments: TournamentLine[];
}
/**
 * A tournament's lobby line. ``buy_in`` goes to the prize pool, ``fee`` to the house,
 *     ``bounty`` on the player's head (an entry costs all three). ``prize_pool``: collected
 *     so far, or the guarantee when larger. ``level``: 1-based, 0 before the start.
 */
export interface TournamentLine {
  tournament_id: number;
  name: string;
  kind: "mtt" | "sng";
  state: "cancelled" | "finished" | "registering" | "running";
  asset: "chips" | "play";
  buy_in: number;
  fee: number;
  bounty: number;
  bounty_kind: "none" | "progressive" | "regular";
  guarantee: number;
  entries: number;
  players_left: number;
  entries_max: number;
  starts_at_ms: number | null;
  prize_pool: number;
  level: number;
  club_id?: number | null;
}
export interface TournamentDetails {
  type: "tournament_details";
  id: number;
  tournament: TournamentView;
}
/**
 * Everything a lobby's detail page shows. ``payouts``: the prize of each place, final
 *     once ``prizes_final`` (before: as if registration closed now). ``level_remaining_ms``
 *     and ``next_break_in_ms``: -1 when there is no clock (hands structures, the last level,
 *     not started) or no break ahead.
 */
export interface TournamentView {
  line: TournamentLine;
  structure: string;
  unit: "hands" | "minutes";
  starting_stack: number;
  /**
   * @maxItems 200
   */
  levels: LevelLine[];
  late_registration_levels: number;
  entries_per_player_max: number;
  /**
   * @maxItems 100000
   */
  payouts: number[];
  prizes_final: boolean;
  level: null | LevelLine;
  on_break: boolean;
  clock_paused: boolean;
  level_remaining_ms: number;
  next_break_in_ms: number;
  average_stack: number;
  players_left: number;
  hand_for_hand: boolean;
  final_table: boolean;
  /**
   * @maxItems 10000
   */
  tables: TableLine[];
  /**
   * @maxItems 100
   */
  my_entries?: StandingEntry[];
  may_register?: boolean;
}
export interface LevelLine {
  level: number;
  small_blind: number;
  big_blind: number;
  ante: number;
  ante_mode: "big_blind" | "each" | "none";
  duration: number;
}
export interface TableLine {
  table_id: string;
  players: number;
  in_hand: boolean;
}
export interface StandingEntry {
  entry: number;
  player_id: number;
  status: "awaiting_rebuy" | "out" | "playing" | "registered" | "unregistered";
  stack: number;
  table_id: string | null;
  place: number;
  tied: number;
  prize: number;
  bounties: number;
  head: number;
  display_name?: string | null;
}
/**
 * ``table_id``: a late entry's table (``tournament_seated`` follows); null before the
 *     start.
 */
export interface TournamentRegistered {
  type: "tournament_registered";
  id: number;
  tournament_id: number;
  entry: number;
  reentry: boolean;
  table_id?: string | null;
}
export interface TournamentStandings {
  type: "tournament_standings";
  id: number;
  tournament_id: number;
  total: number;
  /**
   * @maxItems 500
   */
  standings: StandingEntry[];
}
/**
 * Envelope of every server push: ``seq`` orders them within the session.
 */
export interface Event {
  type: "event";
  seq: number;
  body:
    | Notice
    | SessionState
    | LobbyTableChanged
    | LobbyTableRemoved
    | TableSnapshot
    | SeatChanged
    | SeatAvailable
    | DealCommitment
    | HandStarted
    | BlindPosted
    | HoleCards
    | ActionRequired
    | TimeBankStarted
    | ActionTaken
    | UncalledBetReturned
    | BoardDealt
    | PotsChanged
    | RunItTwiceOffered
    | RunItTwiceDecided
    | Showdown
    | PotAwarded
    | HandEnded
    | HandVoided
    | TableStatusChanged
    | LevelUp
    | AchievementEarned
    | TournamentLobbyChanged
    | TournamentLobbyRemoved
    | TournamentStateChanged
    | TournamentSeated
    | TournamentMoved
    | TournamentRebuyOffered
    | TournamentEliminated
    | TournamentPlaced
    | TournamentPaid
    | TournamentDealProposed
    | TournamentDealDecided;
}
/**
 * A message for the player from the server or staff (maintenance, announcements).
 */
export interface Notice {
  type: "notice";
  code: string;
  text: string;
}
/**
 * After a resume: the tables the session sits at; their own state pushes follow. Also
 *     the first push after a login: the player's preferences (null for guests).
 */
export interface SessionState {
  type: "session_state";
  /**
   * @maxItems 64
   */
  table_ids: string[];
  preferences?: null | PreferencesView;
}
export interface LobbyTableChanged {
  type: "lobby_table_changed";
  listing: TableListing;
}
export interface LobbyTableRemoved {
  type: "lobby_table_removed";
  table_id: string;
}
/**
 * The whole public state of a table (on Watch, on sitting down, on reconnect).
 *     ``hole_cards``: the receiver's own, when they are in the running hand.
 */
export interface TableSnapshot {
  type: "table_snapshot";
  table_id: string;
  listing: TableListing;
  /**
   * @maxItems 10
   */
  seats: SeatView[];
  button: number | null;
  hand_number: number;
  /**
   * @maxItems 5
   */
  board?: string[];
  /**
   * @maxItems 10
   */
  pots?: PotView[];
  /**
   * @maxItems 10
   */
  bets?: [number, number][];
  /**
   * @maxItems 5
   */
  hole_cards?: string[];
  to_act?: number | null;
  next_commitment?: string | null;
}
/**
 * ``display_name``: the player's as it was when she sat down (docs/players.md), at a
 *     tournament's table as the tournament last seated her; None: she has none.
 */
export interface SeatView {
  seat: number;
  player_id: number;
  stack: number;
  state: "leaving" | "playing" | "sitting_out" | "waiting_big_blind";
  connected?: boolean;
  in_hand?: boolean;
  display_name?: string | null;
}
export interface PotView {
  amount: number;
  /**
   * @maxItems 10
   */
  eligible: number[];
}
/**
 * ``view`` None: the seat is now empty.
 */
export interface SeatChanged {
  type: "seat_changed";
  table_id: string;
  seat: number;
  view: null | SeatView;
}
/**
 * To the first player on the wait list: a seat is free; JoinTable to take it.
 */
export interface SeatAvailable {
  type: "seat_available";
  table_id: string;
  seat: number;
}
/**
 * The commitment to the secret server seed that will deal hand ``hand_number``: sent
 *     to everyone at the table when the seed is drawn (the table opens, a hand ends), before
 *     that hand's ``hand_started``. Send ``set_client_seed`` after it: the server chose its
 *     seed before it knew yours.
 */
export interface DealCommitment {
  type: "deal_commitment";
  table_id: string;
  hand_number: number;
  commitment: string;
  scheme?: "tablium-fair-v1";
}
/**
 * ``commitment``: SHA-256 commitment to the server seed this hand is dealt with (the
 *     ``deal_commitment`` announced for it); a table always sends it (None only from a server
 *     that deals no verifiable deck).
 */
export interface HandStarted {
  type: "hand_started";
  table_id: string;
  hand_number: number;
  button: number;
  /**
   * @maxItems 10
   */
  seats: number[];
  /**
   * @maxItems 10
   */
  stacks: number[];
  small_blind_seat: number | null;
  big_blind_seat: number;
  commitment?: string | null;
}
/**
 * ``kind``: small, big, straddle, posted_big, dead_small, ante.
 */
export interface BlindPosted {
  type: "blind_posted";
  table_id: string;
  hand_number: number;
  seat: number;
  kind: "ante" | "big" | "dead_small" | "posted_big" | "small" | "straddle";
  amount: number;
  all_in: boolean;
}
/**
 * Private: sent to the owner of ``seat`` only.
 */
export interface HoleCards {
  type: "hole_cards";
  table_id: string;
  hand_number: number;
  seat: number;
  /**
   * @maxItems 5
   */
  cards: string[];
}
/**
 * ``seat`` must decide within ``act_within_ms``, then its ``time_bank_ms`` runs; then
 *     the table checks, folds, shows (showdown) or declines to run it twice for them. Both are
 *     what is left when this was sent (a prompt sent again after a resume carries less), and
 *     ``deadline_ms`` is when the table acts for them, in server time (ms since the Unix
 *     epoch). ``decision_id`` names this decision within the hand: ``act`` echoes it, and a
 *     prompt sent again carries the same one.
 */
export interface ActionRequired {
  type: "action_required";
  table_id: string;
  hand_number: number;
  seat: number;
  legal: Legal;
  act_within_ms: number;
  time_bank_ms: number;
  decision_id: number;
  deadline_ms: number;
}
/**
 * What the player to act may do. ``None``: not allowed. Amounts as in docs/poker-engine.md:
 *     ``call`` is the chips a call adds; ``*_raise_to`` bound the street total of a raise.
 */
export interface Legal {
  fold?: boolean;
  check?: boolean;
  call?: number | null;
  min_raise_to?: number | null;
  max_raise_to?: number | null;
  show?: boolean;
  muck?: boolean;
  run_it_twice?: boolean;
}
export interface TimeBankStarted {
  type: "time_bank_started";
  table_id: string;
  hand_number: number;
  seat: number;
  time_bank_ms: number;
}
/**
 * ``amount``: chips moved by this action; ``bet_to``: the street total after it.
 *     ``timed_out``: the table acted for a player whose time ran out.
 */
export interface ActionTaken {
  type: "action_taken";
  table_id: string;
  hand_number: number;
  seat: number;
  action: "bet" | "call" | "check" | "fold" | "raise";
  amount: number;
  bet_to: number;
  all_in: boolean;
  timed_out?: boolean;
}
export interface UncalledBetReturned {
  type: "uncalled_bet_returned";
  table_id: string;
  hand_number: number;
  seat: number;
  amount: number;
}
/**
 * Only the new cards; ``run`` 1 is the second board of a run it twice.
 */
export interface BoardDealt {
  type: "board_dealt";
  table_id: string;
  hand_number: number;
  street: "flop" | "river" | "turn";
  /**
   * @maxItems 5
   */
  cards: string[];
  run?: number;
}
export interface PotsChanged {
  type: "pots_changed";
  table_id: string;
  hand_number: number;
  /**
   * @maxItems 10
   */
  pots: PotView[];
}
export interface RunItTwiceOffered {
  type: "run_it_twice_offered";
  table_id: string;
  hand_number: number;
  /**
   * @maxItems 10
   */
  seats: number[];
}
export interface RunItTwiceDecided {
  type: "run_it_twice_decided";
  table_id: string;
  hand_number: number;
  runs: number;
}
/**
 * A hand turned face up (``cards``) or mucked (``cards`` empty, ``mucked`` true).
 */
export interface Showdown {
  type: "showdown";
  table_id: string;
  hand_number: number;
  seat: number;
  /**
   * @maxItems 5
   */
  cards: string[];
  mucked?: boolean;
}
export interface PotAwarded {
  type: "pot_awarded";
  table_id: string;
  hand_number: number;
  pot_index: number;
  run: number;
  share: "high" | "low" | "whole";
  seat: number;
  amount: number;
  hand: string;
}
/**
 * The reveal (docs/fairness.md): ``server_seed`` (hashes to ``hand_started``'s
 *     commitment) and the client seed of every seat dealt in, by seat; with them and the hand
 *     id ``"{table_id}:{hand_number}"`` the deck is recomputed. None / empty only from a server
 *     that deals no verifiable deck.
 */
export interface HandEnded {
  type: "hand_ended";
  table_id: string;
  hand_number: number;
  /**
   * @maxItems 10
   */
  seats: number[];
  /**
   * @maxItems 10
   */
  stacks: number[];
  rake: number;
  server_seed?: string | null;
  /**
   * @maxItems 10
   */
  client_seeds?: ClientSeed[];
}
/**
 * The client seed a seat's deal used (its player's, or a default the server drew).
 */
export interface ClientSeed {
  seat: number;
  seed: string;
}
/**
 * The hand could not go on (the table restarted): every stack is back to what it was
 *     when the hand started; nothing was won or lost. No reveal: its server seed was lost with
 *     the table's memory (docs/fairness.md); the next hand has a fresh ``deal_commitment``.
 */
export interface HandVoided {
  type: "hand_voided";
  table_id: string;
  hand_number: number;
  /**
   * @maxItems 10
   */
  seats: number[];
  /**
   * @maxItems 10
   */
  stacks: number[];
}
/**
 * An operator paused, resumed or closed the table. ``paused``: no new hand starts (the
 *     running one finishes). ``closing``: when the running hand ends every player is stood up
 *     and cashed out; ``closed``: done, the table is gone (``lobby_table_removed`` follows).
 */
export interface TableStatusChanged {
  type: "table_status_changed";
  table_id: string;
  status: "closed" | "closing" | "open" | "paused";
}
/**
 * The player reached a new level (XP: docs/players.md).
 */
export interface LevelUp {
  type: "level_up";
  level: number;
  xp: number;
  reached_at_ms: number;
}
export interface AchievementEarned {
  type: "achievement_earned";
  code: string;
  title: string;
  earned_at_ms: number;
}
/**
 * A subscribed tournament's lobby line changed (also: a new one appeared).
 */
export interface TournamentLobbyChanged {
  type: "tournament_lobby_changed";
  tournament: TournamentLine;
}
/**
 * A club tournament left the subscriber's lobby: she is no longer a member of its club
 *     (left, removed, banned).
 */
export interface TournamentLobbyRemoved {
  type: "tournament_lobby_removed";
  tournament_id: number;
}
/**
 * To every entrant still registered or in: the tournament started, a level or a break
 *     began or ended, hand-for-hand began or ended, the final table formed, the clock was
 *     paused or resumed, it finished or was cancelled. ``event`` says which; the other fields
 *     are the state after it.
 */
export interface TournamentStateChanged {
  type: "tournament_state_changed";
  tournament_id: number;
  event:
    | "break_ended"
    | "break_started"
    | "cancelled"
    | "clock_paused"
    | "clock_resumed"
    | "final_table"
    | "finished"
    | "hand_for_hand_ended"
    | "hand_for_hand_started"
    | "level"
    | "prizes_set"
    | "registration_closed"
    | "started";
  state: "cancelled" | "finished" | "registering" | "running";
  level: null | LevelLine;
  on_break: boolean;
  level_remaining_ms: number;
  players_left: number;
  prize_pool: number;
}
/**
 * The player's entry has a seat (at the start, a late entry, or again after a server
 *     restart): the table's own ``table_snapshot`` reaches her just before it.
 */
export interface TournamentSeated {
  type: "tournament_seated";
  tournament_id: number;
  entry: number;
  table_id: string;
  seat: number;
  stack: number;
}
/**
 * The player was moved between hands (balancing, a table broken, or a director): she
 *     now sits at ``table_id``, ``seat``, with the same ``stack``; the old table has let her
 *     go. The client follows without asking (the new table's ``table_snapshot`` reaches her
 *     just before it; its hands come after).
 */
export interface TournamentMoved {
  type: "tournament_moved";
  tournament_id: number;
  entry: number;
  from_table_id: string;
  table_id: string;
  seat: number;
  stack: number;
  reason: "balance" | "break" | "director";
}
/**
 * Busted while rebuys are open: ``tournament_rebuy`` within ``expires_in_ms``, or the
 *     entry is out.
 */
export interface TournamentRebuyOffered {
  type: "tournament_rebuy_offered";
  tournament_id: number;
  entry: number;
  chips: number;
  price: number;
  fee: number;
  expires_in_ms: number;
}
/**
 * The entry is out (its place follows in ``tournament_placed`` once it is decided:
 *     at once, or when the prizes are final; a director's removal with a refund takes no
 *     place). ``may_reenter``: late registration is open.
 */
export interface TournamentEliminated {
  type: "tournament_eliminated";
  tournament_id: number;
  entry: number;
  may_reenter: boolean;
}
/**
 * The entry finished ``place`` (shared with ``tied`` - 1 others); ``prize`` (0 out of
 *     the money) is paid at once (``tournament_paid``).
 */
export interface TournamentPlaced {
  type: "tournament_placed";
  tournament_id: number;
  entry: number;
  place: number;
  tied: number;
  prize: number;
}
/**
 * Chips reached the player's wallet: a prize, a bounty (``knocked_out``: whose), deal
 *     money, or a refund (a cancel or a director's removal).
 */
export interface TournamentPaid {
  type: "tournament_paid";
  tournament_id: number;
  entry: number;
  kind: "bounty" | "deal" | "prize" | "refund";
  amount: number;
  asset: "chips" | "play";
  knocked_out?: number | null;
}
/**
 * A deal is on the table: what each remaining entry would get. ``accepted``: who said
 *     yes so far. Sent again after each yes.
 */
export interface TournamentDealProposed {
  type: "tournament_deal_proposed";
  tournament_id: number;
  deal_id: number;
  kind: "chip_chop" | "icm";
  keep: number;
  /**
   * @maxItems 10
   */
  entries: number[];
  /**
   * @maxItems 10
   */
  amounts: number[];
  /**
   * @maxItems 10
   */
  accepted: number[];
  expires_in_ms: number;
}
/**
 * The deal was made (``made``; payments follow) or dropped (a no, or time ran out).
 */
export interface TournamentDealDecided {
  type: "tournament_deal_decided";
  tournament_id: number;
  deal_id: number;
  made: boolean;
}
